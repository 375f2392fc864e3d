/// A ``Semaphore`` that refuses to grow past its starting value — gevent's
/// `BoundedSemaphore`: releasing more often than acquiring is a bug, reported by a throw.
@Hub
public final class BoundedSemaphore: Sendable {
    private let permits: Semaphore

    /// The starting (and largest) number of free permits.
    public nonisolated let bound: Int

    /// A semaphore with `value` permits, never more.
    public nonisolated init(value: Int = 1) {
        bound = value
        permits = Semaphore(value: value)
    }

    /// Permits free now.
    public var value: Int { permits.value }

    /// Takes a permit; see ``Semaphore/acquire(timeout:)-(Double?)``.
    ///
    /// - Returns: `false` if `timeout` passed first.
    /// - Throws: `CancellationError` if killed while waiting.
    @discardableResult
    public func acquire(timeout: Double? = nil) async throws -> Bool {
        try await permits.acquire(timeout: timeout)
    }

    /// Takes a permit if one is free now.
    public func tryAcquire() -> Bool { permits.tryAcquire() }

    /// Gives a permit back.
    ///
    /// - Throws: ``LockError/overReleased(bound:)`` if every permit is already free.
    public func release() throws(LockError) {
        guard permits.value < bound else { throw .overReleased(bound: bound) }
        permits.release()
    }
}
