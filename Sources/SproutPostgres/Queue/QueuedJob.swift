import Sprout

/// A job submitted to a ``JobQueue``: its id in the table and a future for its output.
///
/// It is ``Joinable`` like a process pool's `JobHandle`, so `joinAll` and `iwait` take it.
/// ``get(timeout:)`` throws the job's ``JobQueueError`` if it failed (its `run()` threw, its
/// process crashed, its timeout passed, it was cancelled, its leases kept expiring); a
/// timeout given to `get` or `join` does not cancel the job. The submitting greenlet waits
/// on the queue's `NOTIFY` of completion, not on a polling loop.
public final class QueuedJob<Output: Sendable>: Joinable {
    /// The job's id in `sprout_jobs`: another client may wait on it with ``JobQueue/job(id:as:)``.
    /// 0 for a job of a map or ``JobQueue/submitAll(_:priority:timeout:retries:maxAttempts:)``
    /// that could not be encoded: nothing was inserted for it, and its handle failed at once
    /// with ``Sprout/ProcessPoolError/coding(job:detail:)``.
    public let id: Int
    private let outcome = AsyncResult<Output>()
    private let queue: JobQueue

    init(id: Int, queue: JobQueue) {
        self.id = id
        self.queue = queue
    }

    /// The handle of a job that could not be encoded, failed with `error` (see ``id``).
    convenience init(unencodable error: ProcessPoolError, queue: JobQueue) {
        self.init(id: Self.neverInserted, queue: queue)
        try? outcome.fail(error)
    }

    /// The ``id`` of a job that could not be encoded; the table's ids start at 1.
    static var neverInserted: Int { 0 }

    /// True once the job has a recorded outcome.
    public var isReady: Bool { outcome.isReady }
    /// True once the job has succeeded.
    public var isSuccessful: Bool { outcome.isSuccessful }
    /// The error it ended with, if any; reading it counts as observing it.
    public var error: (any Error)? { outcome.error }
    /// The output, once it succeeded.
    public var value: Output? { outcome.value }

    /// Waits until the job has an outcome or `timeout` passes; returns ``isReady``.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @Hub
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool { try await outcome.join(timeout: timeout) }

    /// Waits for the job's output.
    ///
    /// - Throws: ``JobQueueError`` for a job that did not succeed; ``Sprout/Timeout`` if
    ///   `timeout` passes first (the job goes on); `CancellationError` if killed.
    @Hub
    public func get(timeout: Double? = nil) async throws -> Output { try await outcome.get(timeout: timeout) }

    /// Cancels the job without waiting: a queued job is never run; a running one's worker
    /// host is told through `NOTIFY` and kills the process running it. It then fails with
    /// ``JobQueueError/cancelled(job:)``. Nothing happens if it already has an outcome.
    public func cancel() {
        guard !isReady else { return }
        let queue = queue, id = id
        Hub.later {
            guard !queue.isClosed else { return }
            _ = spawn(name: "cancel job \(id)") { try await queue.cancel(jobID: id) }
        }
    }

    /// Calls `callback` on the hub once the job has an outcome.
    public func onDone(_ callback: @escaping @Sendable @Hub () -> Void) { outcome.onDone(callback) }

    /// Calls `callback` on the hub with the job's outcome.
    public func onDone(_ callback: @escaping @Sendable @Hub (Result<Output, any Error>) -> Void) { outcome.onDone(callback) }

    /// Marks its error as seen, so it is not reported as unobserved.
    public func markObserved() { outcome.markObserved() }

    /// Records the outcome read from the table (first one wins; there is only one).
    func finish(_ result: Result<Output, any Error>) {
        switch result {
        case .success(let value): try? outcome.set(value)
        case .failure(let error): try? outcome.fail(error)
        }
    }
}
