/// A mutual-exclusion lock for greenlets — gevent's `Lock`: one holder at a time, waiters
/// served first come, first served. Any greenlet may release it (as in gevent); releasing
/// it while unlocked is an error. For a lock its holder may take again, use ``RLock``.
///
/// ```swift
/// let lock = Lock()
/// try await lock.withLock { balance += 1 }
/// ```
@Hub
public final class Lock: Sendable {
    private let permit = Semaphore(value: 1)

    /// A new, unlocked lock.
    public nonisolated init() {}

    /// True while held.
    public var isLocked: Bool { permit.isLocked }

    /// Takes the lock, parking until it is free or `timeout` seconds pass.
    ///
    /// - Returns: `false` if the timeout passed (the lock was not taken).
    /// - Throws: `CancellationError` if killed while waiting (the lock was not taken).
    @discardableResult
    public func acquire(timeout: Double? = nil) async throws -> Bool {
        try await permit.acquire(timeout: timeout)
    }

    /// Takes the lock if it is free now.
    public func tryAcquire() -> Bool { permit.tryAcquire() }

    /// Releases the lock, handing it to the longest-waiting greenlet if any.
    ///
    /// - Throws: ``LockError/notLocked`` if it is not held.
    public func release() throws(LockError) {
        guard permit.isLocked else { throw .notLocked }
        permit.release()
    }

    /// Runs `body` holding the lock, released however `body` ends.
    ///
    /// - Throws: what `body` throws; `CancellationError` if killed while waiting.
    public func withLock<Result>(_ body: @Hub () async throws -> Result) async throws -> Result {
        try await permit.withPermit(body)
    }
}
