import Foundation
import Sprout
import SproutBenchSupport
import SproutHTTP

// Pool workers are forked from the fork server this call starts (or, with
// SPROUT_FORK_SERVER=0, are this program run again): they serve from here and never return.
try ProcessPool.serveIfWorker(jobs: processJobs)

// The prime workload's serial baseline runs on the hub by design; the monitor would say so.
Hub.blockingThreshold = nil

// The program links SproutHTTP (libcurl) and Foundation (the imports above), as most users'
// programs do, so pool-ready and pool-replace measure worker start-up from such a program.

try runWorkload(from: processWorkloads)
