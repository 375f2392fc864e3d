/// Why a ``ProcessPool`` cannot do what was asked.
public enum ProcessPoolError: Error, CustomStringConvertible, Sendable {
    /// A pool was created inside a pool worker. The usual cause: `main` does not call
    /// ``ProcessPool/serveIfWorker(jobs:coder:)`` first, so each worker runs the whole
    /// program again.
    case insideWorker
    /// Workers kept failing to start — dying before they were ready, or refused then (a
    /// worker program of another Sprout version, a failing initializer); `reason` says how
    /// the last one failed and what to check.
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
    /// The encoded job is larger than the pool's payload limit; nothing was sent.
    case jobTooLarge(job: String, bytes: Int, limit: Int)
    /// The job went back to the queue `attempts` times because its worker died each time
    /// before starting it; it never ran.
    case requeuedTooOften(job: String, attempts: Int)

    /// What to check when a worker never said hello: a program that does not call
    /// `serveIfWorker` runs its whole `main` in each worker instead of serving.
    static let serveIfWorkerHint = "does main call ProcessPool.serveIfWorker(jobs:) first thing?"

    public var description: String {
        switch self {
        case .insideWorker:
            "a ProcessPool cannot be created inside a pool worker — \(Self.serveIfWorkerHint)"
        case .workersFailedToStart(let attempts, let reason):
            "pool workers failed to start \(attempts) times in a row; last: \(reason)"
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
        case .jobTooLarge(let job, let bytes, let limit):
            "job \(job) is \(bytes) bytes encoded, over the pool's limit of \(limit) bytes (maxPayloadBytes); it was not sent"
        case .requeuedTooOften(let job, let attempts):
            "job \(job) was re-queued \(attempts) times because its workers died before starting it; it never ran"
        }
    }
}
