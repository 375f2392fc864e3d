import Logging
import Sprout

#if canImport(Glibc)
import Glibc
#endif

extension JobQueue {
    /// Serves the queue at `url` as one worker host: claims jobs of the registered `jobs`
    /// types only (hosts may run different builds), runs them in a local process pool of
    /// `processes` workers (a job that crashes its process fails with
    /// ``JobQueueError/workerCrashed(job:description:)``, recorded), and returns after
    /// SIGTERM once the jobs it holds are finished and recorded.
    ///
    /// The pool's workers are this program started again: call
    /// `ProcessPool.serveIfWorker(jobs:)` with the same types first thing in `main`.
    ///
    /// A statement the server refuses (a statement or lock timeout, an error raised by a
    /// trigger) or a broken connection does not end the host: it keeps its running jobs and
    /// their leases and tries again 0.05 s later, doubling to 1 s (see docs/JobQueue.md).
    ///
    /// Reports (the local pool's: worker stderr lines, workers that died; the host's own:
    /// each statement the server refused) go to `logger`, the pool's own (`sprout.pool`) and
    /// the queue's (`sprout.queue`) when `nil`.
    ///
    /// A SIGTERM that comes while the host starts (before it claims anything) ends it the
    /// same way, once it has started.
    ///
    /// - Returns: how many of this host's answers the table refused because the job's row no
    ///   longer held the lease token they carried: its lease had passed to another host (this
    ///   one was cut off for longer than the lease), its client cancelled it while it ran, or
    ///   a server crash undid its claim (claims do not wait for the disk).
    /// - Throws: ``PostgresError`` if the database cannot be reached at start;
    ///   ``JobQueueError/schemaTooNew(found:supported:)``; what starting the pool throws;
    ///   ``IOError`` if SIGTERM cannot be watched.
    @discardableResult
    public static func serve(
        postgres url: String, jobs: [any ProcessJob.Type], processes: Int? = nil,
        options: JobQueueWorkerOptions = JobQueueWorkerOptions(), logger: Logger? = nil
    ) async throws -> Int {
        // Watched before anything else: a SIGTERM while the host connects, migrates and starts
        // its pool (tens of ms) drains it once started, with nothing claimed, rather than
        // ending the program with `Hub.run`'s default exit 143.
        let terms = try Signals(SIGTERM)
        defer { terms.close() }
        let db = try await JobQueue.connection(to: url, statementTimeout: JobQueue.defaultStatementTimeout)
        defer { db.close() }
        try await JobQueueSchema.migrate(db)
        let pool = try await ProcessPool(workers: processes, executable: options.executable, logger: logger)
        let worker = QueueWorker(url: url, jobs: jobs, pool: pool, options: options,
                                 logger: logger ?? Logger(label: JobQueue.loggerLabel))
        do {
            try await worker.serve(until: terms)
        } catch {
            await pool.terminate()
            throw error
        }
        try await pool.shutdown()
        return worker.refusedAnswers
    }
}
