/// How a ``ProcessPool`` starts its workers (multiprocessing's start methods).
public enum WorkerStart: Sendable, Equatable {
    /// Forked from the fork server when the worker program is this program and it started
    /// one (``ProcessPool/serveIfWorker(jobs:coder:)`` does, early); otherwise the program
    /// is run again. If the fork server dies, the next worker start runs the program again
    /// as a new one.
    case automatic
    /// Always runs the worker program again: each worker starts from scratch.
    case spawn
    /// Forked from a fork server, running the worker program as one first if there is none
    /// (it must call ``ProcessPool/serveIfWorker(jobs:coder:)`` first thing, as every
    /// worker program does).
    case forkServer
}
