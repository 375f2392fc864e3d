extension ProcessPool {
    /// Turns this process into a pool worker if it was started as one, and never returns
    /// then; in any other process it returns at once. Call it first thing in `main`, before
    /// anything else runs — pool workers are this same program.
    ///
    /// In a program that is not a worker and still has one thread, it forks the *fork
    /// server*: a small copy of the program, taken now while forking is safe, from which
    /// pools fork their workers in about a millisecond instead of running the program
    /// again (like multiprocessing's `forkserver`). It keeps one worker forked ahead, the
    /// spare, which the next worker start takes, so no start waits for a fork; the spare is
    /// no pool's worker until then, and costs one more idle process per fork server (96 KiB
    /// of memory of its own, 1.1 MiB counting its share of what it shares with the server:
    /// `Private_Dirty` and `Pss` of its `/proc/<pid>/smaps_rollup` in `sprout-bench-pool`).
    /// The spare exists from here and while a pool of this program lives: when the last
    /// pool's ``ProcessPool/shutdown(wait:cancelPending:)`` (or `join`, `terminate`) returns,
    /// it has ended and been reaped (one the server was forking at that moment, within a
    /// millisecond of a worker's start, is killed once announced), and the next pool's first
    /// start forks one again. The server exits with the program.
    /// `SPROUT_FORK_SERVER=0` in the environment turns it off. A program started as a fork
    /// server (a pool's ``WorkerStart/forkServer``, or a replacement for one that died)
    /// serves as one from here and never returns.
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
        if let control = ForkServer.controlFromEnvironment {
            ForkServer.serve(control: control, jobs: RegisteredJob.table(jobs), coder: coder,
                             forksSpares: ForkServer.parentSpeaksThisProtocol)
        }
        guard let channel = WorkerEnvironment.workerChannel else {
            ForkServer.startEarly(jobs: RegisteredJob.table(jobs), coder: coder)
            return
        }
        WorkerLoop(channel: channel, jobs: RegisteredJob.table(jobs), coder: coder).serve()
    }
}
