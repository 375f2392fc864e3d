import Sprout
import SproutTestJobs

#if canImport(Glibc)
import Glibc
#endif

try ProcessPool.serveIfWorker(jobs: testJobs)

// Run directly (not as a worker), it is a pool parent for whole-process checks:
// `pool-parent` starts two workers, gives one a job that never ends, prints
// "pids A B" and waits to be signalled or killed.
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
