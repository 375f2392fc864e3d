#if canImport(Glibc)
import Glibc
#endif
import Sprout

// Each area of Sprout adds its list here.
let workloads = hubWorkloads + httpWorkloads

// Spawning 100k greenlets in one go is one long job by design; the monitor would say so.
Hub.blockingThreshold = nil

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let workload = workloads.first(where: { $0.name == name }) else {
    print("usage: sprout-bench WORKLOAD [ARGS...]\n")
    for workload in workloads { print("  " + workload.usage) }
    exit(2)
}
try workload.run(Array(arguments.dropFirst()))
