import Glibc

/// A counting semaphore shared by processes — multiprocessing's `Semaphore` (and
/// `BoundedSemaphore`: releasing more often than acquiring is an error). It remembers which
/// processes hold its slots, so a slot held by a process that died is taken back by the
/// next waiter, who is told (`acquire()` returns `true`) — a killed worker does not shrink
/// the semaphore for good.
///
/// Send it to workers inside a job (it is `Codable`; the shared memory's name travels).
/// Waiting switches greenlets on the hub and sleeps the thread in a worker's job.
public final class ProcessSemaphore: Codable, Sendable {
    private let words: SharedWords
    /// Word 0 is the slot count; each word after it is a slot: the pid holding it, or 0.
    private var slots: Int { words.count - 1 }

    /// A semaphore with `value` slots, all free.
    ///
    /// - Throws: ``ProcessSyncError/invalidCount(_:)`` unless `value` is 1...4096;
    ///   ``SharedMemoryError`` if the shared memory cannot be made.
    public init(value: Int) throws {
        guard (1...4096).contains(value) else { throw ProcessSyncError.invalidCount(value) }
        words = try SharedWords(count: 1 + value)
        words.withLock { $0[0] = Int64(value) }
    }

    /// How many slots are free now.
    public var value: Int { words.withLock { Int($0[0]) } }

    /// Takes a slot, waiting up to `timeout` seconds (forever when `nil`) for one to be free.
    ///
    /// - Returns: `nil` if `timeout` passed first; `true` if the slot was taken back from a
    ///   process that died holding it; `false` otherwise.
    /// - Throws: `CancellationError` if the greenlet is killed first (no slot is taken).
    @discardableResult
    public func acquire(timeout: Double? = nil) async throws -> Bool? {
        try await pollUntil(timeout: timeout) { tryAcquire() }
    }

    /// Takes a slot if one is free now: `nil` if none is, else whether it was taken back
    /// from a process that died holding it.
    public func tryAcquire() -> Bool? {
        let me = Int64(getpid())
        return words.withLock { word -> Bool? in
            var reclaimed = false
            if word[0] == 0 {
                // Every slot is held: take back those whose process is gone.
                for slot in 1...slots where processIsGone(word[slot]) {
                    word[slot] = 0
                    word[0] += 1
                    reclaimed = true
                }
            }
            guard word[0] > 0, let free = (1...slots).first(where: { word[$0] == 0 }) else { return nil }
            word[0] -= 1
            word[free] = me
            return reclaimed
        }
    }

    /// Frees a slot: one this process holds if it holds any (else any held slot, as a
    /// semaphore may be released by another process than the one that took it).
    ///
    /// - Throws: ``ProcessSyncError/releasedTooOften`` if no slot is held.
    public func release() throws(ProcessSyncError) {
        let me = Int64(getpid())
        let freed = words.withLock { word -> Bool in
            guard let held = (1...slots).first(where: { word[$0] == me }) ?? (1...slots).first(where: { word[$0] != 0 }) else {
                return false
            }
            word[held] = 0
            word[0] += 1
            return true
        }
        if !freed { throw .releasedTooOften }
    }

    /// Encodes the shared memory's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words.name)
    }

    /// Maps the semaphore another process made.
    ///
    /// - Throws: ``SharedMemoryError`` if it no longer exists; ``ProcessSyncError/invalidCount(_:)``
    ///   if what it maps has no slot.
    public init(from decoder: any Decoder) throws {
        words = try SharedWords(opening: decoder.singleValueContainer().decode(String.self))
        guard words.count >= 2 else { throw ProcessSyncError.invalidCount(words.count - 1) }
    }
}
