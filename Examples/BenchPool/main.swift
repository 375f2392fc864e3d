import Sprout
import SproutBenchSupport

// The pool's workers are this program started again: they serve from here and never return.
try ProcessPool.serveIfWorker(jobs: processJobs)

// The prime workload's serial baseline runs on the hub by design; the monitor would say so.
Hub.blockingThreshold = nil

try runWorkload(from: processWorkloads)
