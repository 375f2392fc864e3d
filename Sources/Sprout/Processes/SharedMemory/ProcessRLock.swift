import Glibc

/// A re-entrant lock shared by processes — multiprocessing's `RLock`: the greenlet (or, in
/// a worker's job, the thread) that holds it may take it again, and must release it as
/// many times. If its holder's process dies, the next taker takes it over and is told
/// (`acquire()` returns `true`), as with ``ProcessLock``.
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// Waiting switches greenlets on the hub and sleeps the thread in a worker's job; bound it
/// with ``withTimeout(_:_:)-(Double?,_)``.
public final class ProcessRLock: Codable, Sendable {
    private let words: SharedWords
    private enum Word { static let pid = 0, owner = 1, depth = 2 }

    /// A new unlocked lock.
    ///
    /// - Throws: ``SharedMemoryError`` if the shared memory cannot be made.
    public init() throws {
        words = try SharedWords(count: 3)
    }

    /// Who is asking: the greenlet (a timeout's body counts as its greenlet), else the thread.
    private static var caller: (pid: Int64, owner: Int64) {
        let owner = GreenletContext.current.map { Int64(bitPattern: $0.id) } ?? -Int64(bitPattern: UInt64(pthread_self()))
        return (Int64(getpid()), owner)
    }

    /// Takes the lock, waiting while another greenlet, thread or process holds it.
    ///
    /// - Returns: `true` if its previous holder's process died holding it (what it guarded
    ///   may be half-updated); the lock is then taken over.
    /// - Throws: `CancellationError` if the greenlet is killed (or an enclosing timeout
    ///   expires) first; the lock is not taken then.
    @discardableResult
    public func acquire() async throws -> Bool {
        let me = Self.caller
        return try await pollUntil(timeout: nil) { tryTake(me) }!
    }

    /// Takes the lock if that needs no wait; `nil` if someone else holds it, else whether
    /// its previous holder's process died holding it.
    public func tryAcquire() -> Bool? {
        tryTake(Self.caller)
    }

    private func tryTake(_ me: (pid: Int64, owner: Int64)) -> Bool? {
        words.withLock { word in
            let holder = word[Word.pid]
            if holder == me.pid && word[Word.owner] == me.owner {
                word[Word.depth] += 1
                return false
            }
            let died = processIsGone(holder)
            guard holder == 0 || died else { return nil }
            word[Word.pid] = me.pid
            word[Word.owner] = me.owner
            word[Word.depth] = 1
            return died
        }
    }

    /// Releases one level of the caller's hold; the lock is free once every `acquire` is
    /// matched.
    ///
    /// - Throws: ``ProcessSyncError/notOwner`` if the caller does not hold it.
    public func release() throws(ProcessSyncError) {
        let me = Self.caller
        let owned = words.withLock { word -> Bool in
            guard word[Word.pid] == me.pid, word[Word.owner] == me.owner, word[Word.depth] > 0 else { return false }
            word[Word.depth] -= 1
            if word[Word.depth] == 0 {
                word[Word.pid] = 0
                word[Word.owner] = 0
            }
            return true
        }
        if !owned { throw .notOwner }
    }

    /// Runs `body` holding the lock, telling it whether the previous holder's process died
    /// holding it.
    ///
    /// - Throws: what `body` throws (the lock is released either way); `CancellationError`
    ///   if the greenlet is killed while waiting for the lock.
    public nonisolated(nonsending) func withLock<T>(_ body: (_ previousHolderDied: Bool) async throws -> T) async throws -> T {
        let died = try await acquire()
        defer { try? release() }
        return try await body(died)
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words.name)
    }

    /// Maps the lock another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if it no longer exists.
    public init(from decoder: any Decoder) throws {
        words = try SharedWords(opening: decoder.singleValueContainer().decode(String.self))
    }
}
