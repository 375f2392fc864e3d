/// A job submitted to a ``ProcessPool``: a future for its output — `AsyncResult` from
/// `apply_async`, `Future` from `ProcessPoolExecutor.submit`.
///
/// It is ``Joinable``, so ``joinAll(_:timeout:raiseError:count:)-([Joinable],Double?,_,_)`` and
/// ``iwait(_:timeout:count:)-([Joinable],Double?,Int?)`` take job handles and greenlets alike. Waiting, values and
/// errors work as for every ``Completion``: ``Completion/get(timeout:)`` throws
/// ``JobFailed`` if the job threw, ``WorkerCrashed`` if its worker died, ``JobCancelled``
/// or ``Timeout`` if it was cancelled or its own deadline passed, or a
/// ``ProcessPoolError``. A timeout given to `get` or `join` does not cancel the job. An
/// error nobody reads is reported once on standard error when the handle goes away.
public final class JobHandle<Output: Sendable>: Completion<Output>, @unchecked Sendable {
    /// Set by the pool right after the task is made; read only on the hub.
    nonisolated(unsafe) var task: PoolTask?

    override init() {}

    override var reportName: String { "a process job" }

    override func isDeliberate(_ error: any Error) -> Bool { error is JobCancelled }

    /// Cancels the job without waiting: dropped if still queued; if running, its worker is
    /// killed (SIGTERM, grace period, SIGKILL) and replaced. It fails with ``JobCancelled``.
    public override func cancel() {
        Hub.later { [self] in
            guard let task, let pool = task.pool else { return }
            pool.cancel(task, with: JobCancelled(job: task.jobDescription))
        }
    }

    /// Stores the job's outcome, wakes its waiters and lets the pool's task go.
    @Hub
    func finish(_ outcome: Result<Output, any Error>) {
        task = nil
        complete(outcome)
    }
}
