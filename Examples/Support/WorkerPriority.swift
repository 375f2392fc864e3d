import Sprout

import Glibc

/// A pool initializer that lowers a worker's scheduling priority (`nice`), so that on a
/// machine whose every core computes, the hub's process still gets a core the moment it
/// wakes. Returns the niceness the worker ended up with.
public struct WorkerPriority: ProcessJob {
    /// The niceness to set, 0 (normal) to 19 (lowest).
    public var nice: Int32

    /// An initializer setting niceness `nice`.
    public init(nice: Int32) {
        self.nice = nice
    }

    /// Sets the worker's niceness. Throws nothing: a refusal leaves it where it was.
    public func run() -> Int32 {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }
}

/// Every job type the offload comparison sends to its pool workers; pass it to
/// ``ProcessPool/serveIfWorker(jobs:coder:)`` first thing in `main`.
public let offloadJobs: [any ProcessJob.Type] = [CountPrimes.self, WorkerPriority.self]
