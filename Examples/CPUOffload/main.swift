import Sprout
import SproutExamplesSupport

// Pool workers and the HTTP load client are this same program started again: both hand
// over before anything else runs.
try ProcessPool.serveIfWorker(jobs: offloadJobs)
try LoadClient.runIfRequested()

CPUOffload.main()
