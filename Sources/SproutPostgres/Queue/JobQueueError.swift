/// How a job on the queue ended other than with a value, or why the queue refused a call.
public enum JobQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The job's `run()` threw: the error's type name and message.
    case failed(job: String, errorType: String, message: String)
    /// The process running it died (``Sprout/WorkerCrashed``'s account of it).
    case workerCrashed(job: String, description: String)
    /// Its per-job timeout passed; the process running it was killed.
    case timedOut(job: String, seconds: Double)
    /// It was cancelled.
    case cancelled(job: String)
    /// Its lease expired `attempts` times (hosts died or were cut off) and it may not run again.
    case leaseExpired(job: String, attempts: Int)
    /// No worker could decode it (a host running another build).
    case undecodable(job: String, message: String)
    /// It ran, but the server refused to record its outcome every time it was sent, or
    /// the statement recording it outlived its time limit every time: the server's error
    /// (a trigger that refuses the row's change, a constraint the outcome breaks), or the timeout.
    case unrecordable(job: String, message: String)
    /// No job with this id is in the table (never submitted, or pruned), or no longer the
    /// one submitted: a server crash undid a submission made with `durableSubmissions: false`.
    case notFound(id: Int)
    /// The stored result could not be decoded as the expected output type.
    case resultUndecodable(id: Int, message: String)
    /// The database was migrated by a newer library than this one.
    case schemaTooNew(found: Int, supported: Int)
    /// The queue client was closed.
    case closed

    /// A one-line account.
    public var description: String {
        switch self {
        case .failed(let job, let type, let message): return "job \(job) threw \(type): \(message)"
        case .workerCrashed(_, let description): return description
        case .timedOut(let job, let seconds): return "job \(job) ran past its timeout of \(seconds) s"
        case .cancelled(let job): return "job \(job) was cancelled"
        case .leaseExpired(let job, let attempts): return "job \(job) lost its lease \(attempts) times; not run again"
        case .undecodable(let job, let message): return "job \(job) could not be decoded by its worker: \(message)"
        case .unrecordable(let job, let message): return "job \(job)'s outcome was refused by the database: \(message)"
        case .notFound(let id): return "no job \(id) in the queue"
        case .resultUndecodable(let id, let message): return "job \(id)'s result could not be decoded: \(message)"
        case .schemaTooNew(let found, let supported): return "queue schema version \(found) is newer than this library's \(supported)"
        case .closed: return "the job queue client is closed"
        }
    }
}
