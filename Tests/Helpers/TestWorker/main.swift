import Sprout
import SproutTestJobs

#if canImport(Glibc)
import Glibc
#endif

try ProcessPool.serveIfWorker(jobs: testJobs)

// Run directly (not as a worker), it is a parent for whole-process checks:
// `pool-parent` starts two workers, gives one a job that never ends, prints
// "pids A B" and waits to be signalled or killed.
// `child-parent` starts a non-daemon child napping 0.5 s and a daemon child napping 30 s,
// prints "pids A B" and returns: the first is waited for, the second terminated.
if CommandLine.arguments.dropFirst().first == "child-parent" {
    try Hub.run {
        let waited = ChildProcess(Nap(seconds: 0.5))
        let daemon = ChildProcess(Nap(seconds: 30), daemon: true, killGrace: 0.2)
        try waited.start()
        try daemon.start()
        print("pids \(waited.pid!) \(daemon.pid!)")
        fflush(nil)
    }
}
if CommandLine.arguments.dropFirst().first == "pool-parent" {
    try Hub.run {
        let pool = try await ProcessPool(workers: 2)
        let busy = try pool.submit(BusyLoop())
        busy.markObserved()
        print("pids " + pool.workerPIDs.map(String.init).joined(separator: " "))
        fflush(nil)
        try await sleep(3600)
    }
}
