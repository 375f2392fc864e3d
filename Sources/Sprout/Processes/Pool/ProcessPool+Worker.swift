extension ProcessPool {
    /// Turns this process into a pool worker if it was started as one, and never returns
    /// then; in any other process it returns at once. Call it first thing in `main`, before
    /// anything else runs — pool workers are this same program started again.
    ///
    /// A worker serves the job types in `jobs` (a pool sending another type fails before
    /// sending), ignores SIGINT (the parent owns Ctrl-C), and exits when its parent closes
    /// the channel or dies. Jobs run one at a time on the main thread; an `async` `run()`
    /// may use the hub.
    ///
    /// - Parameters:
    ///   - jobs: every job type a pool may send to this program.
    ///   - coder: the coder the pool uses (JSON by default).
    /// - Throws: nothing today; reserved so a future check of `jobs` is not source-breaking.
    public nonisolated static func serveIfWorker(jobs: [any ProcessJob.Type], coder: any ProcessCoder = JSONProcessCoder()) throws {
        guard let channel = WorkerEnvironment.workerChannel else { return }
        WorkerLoop(channel: channel, jobs: RegisteredJob.table(jobs), coder: coder).serve()
    }
}
