#if canImport(Glibc)
import Glibc
#endif

/// How a worker host of a ``JobQueue`` claims and holds jobs.
public struct JobQueueWorkerOptions: Sendable {
    /// Seconds a claim holds a job before another host may take it over; heartbeats extend
    /// it every third of that while the job runs. A host cut off for longer loses its jobs.
    public var leaseSeconds: Double = 30
    /// Jobs claimed per statement at most.
    public var claimBatch: Int = 200
    /// Jobs held per local process at most (running or next in line). A host holds one job
    /// per process plus as many as its processes finished in the last two statements' time
    /// (at least two per process),
    /// so tiny jobs go by the hundred per commit while jobs longer than two statements are
    /// held at most two per process and the rest stay available to other hosts. Jobs shorter
    /// than a statement are held for twice the time (see docs/JobQueue.md).
    public var jobsPerProcess: Int = 256
    /// Whether a batch of answers waits for PostgreSQL to flush it to disk before the host
    /// goes on (`synchronous_commit`): `true` by default. With `false` a job's round trip
    /// waits for one flush, its submission's, instead of two. What a crash of the database
    /// server (not of a host) can then do: undo the answers of the last moments before it
    /// (those not yet written, up to three times `wal_writer_delay`, 0.6 s by default). Each
    /// such job is back to `running` under its old lease, runs again once the lease expires
    /// (counted in `attempts`, bounded by `max_attempts`) and is recorded once; a waiting
    /// client may already have been told the undone outcome (the same value, for a job that
    /// computes one). No job is lost (unless its client set `durableSubmissions: false` on
    /// ``JobQueue/connect(_:durableSubmissions:statementTimeout:logger:)``), and none gets two recorded outcomes
    /// (an answer still needs the row's lease token). See
    /// docs/JobQueue.md, "Durability".
    public var durableAnswers: Bool = true
    /// Finished rows older than this are deleted (checked about once a minute).
    public var keepFinishedSeconds: Double = 86_400
    /// This host's name in the `worker` column; `hostname:pid` by default.
    public var host: String
    /// The program the local process pool starts as its workers; this one when `nil`
    /// (which must call `ProcessPool.serveIfWorker(jobs:)` first thing).
    public var executable: String?

    /// The defaults.
    public init() {
        var name = [UInt8](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        host = "\(String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)):\(getpid())"
    }
}
