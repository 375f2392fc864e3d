import Glibc

/// What the kernel's scheduler says of one thread of this process: how long it has run on
/// a CPU and how long it waited, runnable, for one (`/proc/self/task/<tid>/schedstat`), and
/// whether it is runnable now (`/proc/self/task/<tid>/stat`). It tells a hub thread that is
/// busy or blocked from one that is ready to run while other processes hold every core.
struct ThreadSchedule {
    /// Nanoseconds the thread has run, up to the scheduler's last tick (a running thread's
    /// current slice is counted at the next tick or switch).
    var ran: UInt64
    /// Nanoseconds the thread waited on a run queue, up to the last time it was given a CPU
    /// (a wait still going on is not counted yet).
    var waited: UInt64
    /// True when the thread is running or waiting for a CPU (state `R`), not sleeping.
    var runnable: Bool

    /// The thread `tid`'s figures now; `nil` where the kernel does not keep them
    /// (no `CONFIG_SCHED_INFO`) or the thread has ended.
    init?(thread tid: Int32) {
        guard let stat = readSmallFile("/proc/self/task/\(tid)/schedstat", limit: 128) else { return nil }
        let fields = stat.split(separator: UInt8(ascii: " ")).prefix(2).compactMap {
            UInt64(String(decoding: $0.filter { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
        }
        guard fields.count == 2 else { return nil }
        ran = fields[0]
        waited = fields[1]
        // "tid (name) S ...": the state follows the name's last ")", which may hold anything.
        guard let line = readSmallFile("/proc/self/task/\(tid)/stat", limit: 512),
              let close = line.lastIndex(of: UInt8(ascii: ")")), close + 2 < line.count else { return nil }
        runnable = line[close + 2] == UInt8(ascii: "R")
    }

    /// Of the `elapsed` nanoseconds since `earlier` was read, how many the thread spent
    /// waiting for a CPU: the waits the kernel has counted, and — while the thread is
    /// runnable now — the time neither run nor counted as a wait (the wait it is in).
    func waitedForCPU(since earlier: ThreadSchedule, elapsed: UInt64) -> UInt64 {
        let counted = waited &- earlier.waited
        guard runnable else { return min(counted, elapsed) }
        let accounted = counted + (ran &- earlier.ran)
        return min(elapsed, counted + (elapsed > accounted ? elapsed - accounted : 0))
    }
}
