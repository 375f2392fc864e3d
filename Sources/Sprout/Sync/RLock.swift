/// A re-entrant lock — gevent's `RLock`: the greenlet holding it may take it again, and
/// it is free once released as many times as taken. Only the holder may release it.
/// The holder is the greenlet (by ``GreenletContext/id``); code outside any greenlet counts
/// as one holder.
@Hub
public final class RLock: Sendable {
    private let permit = Semaphore(value: 1)
    private var owner: UInt64?
    private var depth = 0

    /// A new, unlocked lock.
    public nonisolated init() {}

    private var me: UInt64 { GreenletContext.current?.id ?? 0 }

    /// True while some greenlet holds it.
    public var isLocked: Bool { owner != nil }

    /// True while the calling greenlet holds it.
    public var isOwnedByCurrentGreenlet: Bool { owner == me }

    /// Takes the lock (again, if the caller holds it), parking while another greenlet holds it.
    ///
    /// - Returns: `false` if `timeout` passed first.
    /// - Throws: `CancellationError` if killed while waiting (the lock was not taken).
    @discardableResult
    public func acquire(timeout: Double? = nil) async throws -> Bool {
        let me = me
        if owner == me {
            depth += 1
            return true
        }
        guard try await permit.acquire(timeout: timeout) else { return false }
        owner = me
        depth = 1
        return true
    }

    /// Releases one level; the lock is free once released as often as it was taken.
    ///
    /// - Throws: ``LockError/notLocked`` if nobody holds it; ``LockError/notOwner`` if
    ///   another greenlet does.
    public func release() throws(LockError) {
        guard let owner else { throw .notLocked }
        guard owner == me else { throw .notOwner }
        depth -= 1
        if depth == 0 {
            self.owner = nil
            permit.release()
        }
    }

    /// Runs `body` holding the lock.
    ///
    /// - Throws: what `body` throws; `CancellationError` if killed while waiting.
    public func withLock<Result>(_ body: @Hub () async throws -> Result) async throws -> Result {
        try await acquire()
        defer { try? release() }
        return try await body()
    }
}
