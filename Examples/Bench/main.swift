import Sprout

#if canImport(Glibc)
import Glibc
#endif

// The process workloads' pool workers are this program started again.
try ProcessPool.serveIfWorker(jobs: processJobs)

// Each area of Sprout adds its list here.
let workloads = hubWorkloads + syncWorkloads + ioWorkloads + httpWorkloads + processWorkloads

// Spawning 100k greenlets in one go is one long job by design; the monitor would say so.
Hub.blockingThreshold = nil

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let workload = workloads.first(where: { $0.name == name }) else {
    print("usage: sprout-bench WORKLOAD [ARGS...]\n")
    for workload in workloads { print("  " + workload.usage) }
    exit(2)
}
try workload.run(Array(arguments.dropFirst()))
