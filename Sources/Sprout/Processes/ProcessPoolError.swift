/// Why a ``ProcessPool`` cannot do what was asked.
public enum ProcessPoolError: Error, CustomStringConvertible, Sendable {
    /// A pool was created inside a pool worker. The usual cause: `main` does not call
    /// ``ProcessPool/serveIfWorker(jobs:coder:)`` first, so each worker runs the whole
    /// program again.
    case insideWorker
    /// Workers kept dying before they were ready; `reason` says how the last one ended.
    case workersFailedToStart(attempts: Int, reason: String)
    /// The job's type is not among those the workers registered.
    case unregisteredJob(String, served: [String])
    /// The pool was closed or shut down; it takes no new jobs.
    case closed
    /// ``ProcessPool/join()`` was called on a pool that is still open.
    case stillOpen
    /// The job or its output could not be encoded or decoded with the pool's coder.
    case coding(job: String, detail: String)
    /// A worker broke the wire protocol (for example a corrupt frame); it was replaced.
    case protocolViolation(pid: Int32, job: String?, detail: String)

    public var description: String {
        switch self {
        case .insideWorker:
            "a ProcessPool cannot be created inside a pool worker — does main call ProcessPool.serveIfWorker(jobs:) first thing?"
        case .workersFailedToStart(let attempts, let reason):
            "pool workers died at start-up \(attempts) times in a row (does main call ProcessPool.serveIfWorker(jobs:) first thing?); last: \(reason)"
        case .unregisteredJob(let name, let served):
            "job type \(name) is not registered in the workers (serveIfWorker(jobs:) lists \(served))"
        case .closed:
            "the process pool is closed and takes no new jobs"
        case .stillOpen:
            "join() needs a closed pool: call close() or shutdown() first"
        case .coding(let job, let detail):
            "could not encode or decode \(job) for a worker: \(detail)"
        case .protocolViolation(let pid, let job, let detail):
            "worker pid \(pid) broke the wire protocol\(job.map { " while running \($0)" } ?? ""): \(detail); it was replaced"
        }
    }
}

/// The error a job ends with when the worker running it crashed, exited or was killed.
/// The pool replaced the worker; other jobs are unaffected.
public struct WorkerCrashed: Error, CustomStringConvertible, Sendable {
    /// The worker's process id.
    public let pid: Int32
    /// How it ended: exit code or signal.
    public let status: ExitStatus
    /// The job it was running (`String(describing:)`, shortened).
    public let job: String
    /// The last lines the worker wrote to standard error.
    public let stderrTail: String

    public var description: String {
        let tail = stderrTail.isEmpty ? "" : "; its stderr ended with:\n\(stderrTail)"
        return "worker pid \(pid) ended with \(status) while running \(job)\(tail)"
    }
}

/// The error a job ends with when it was cancelled (its handle's `cancel()`, a pool
/// shut down with `cancelPending`, or terminated) before it finished.
public struct JobCancelled: Error, CustomStringConvertible, Sendable {
    /// The job (`String(describing:)`, shortened).
    public let job: String
    public var description: String { "job \(job) was cancelled" }
}
