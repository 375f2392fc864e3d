import Sprout
import SproutBenchSupport

// Each area of Sprout adds its list here. The process pool's workloads live in
// sprout-bench-pool: its workers are the program started again, and a program that links
// libcurl (as this one does, for the HTTP workloads) takes twice as long to start.
let workloads = hubWorkloads + syncWorkloads + ioWorkloads + httpWorkloads

// Spawning 100k greenlets in one go is one long job by design; the monitor would say so.
Hub.blockingThreshold = nil

try runWorkload(from: workloads)
