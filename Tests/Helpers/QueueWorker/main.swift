// A job queue worker host for the queue tests: `sprout-queue-worker URL PROCESSES LEASE
// [async-answers]` (the last: `JobQueueWorkerOptions.durableAnswers = false`).
// Serves the test job types until SIGTERM, then prints "refused N" (answers the table
// refused because the lease had passed to another host) and exits 0; exits 3 at once when
// its standard input (a pipe from the test) reaches end of file.
import Sprout
import SproutPostgres
import SproutTestJobs

import Glibc

try ProcessPool.serveIfWorker(jobs: testJobs)

let arguments = CommandLine.arguments
guard arguments.count == 4 || (arguments.count == 5 && arguments[4] == "async-answers"),
      let processes = Int(arguments[2]), let lease = Double(arguments[3]) else {
    let usage = "usage: sprout-queue-worker URL PROCESSES LEASE_SECONDS [async-answers]\n"
    _ = usage.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
var options = JobQueueWorkerOptions()
options.leaseSeconds = lease
options.durableAnswers = arguments.count == 4
let url = arguments[1]
// Captured by value: top-level variables are the main actor's, which cannot run while
// `Hub.run` blocks the main thread.
try Hub.run { [url, processes, options] in
    // The test holds the other end of standard input: end of file means it is gone (maybe
    // killed by SIGKILL), and a host must not outlive it.
    _ = spawn(name: "test process watch") {
        _ = try await PipeStream.standardInput().readToEnd()
        _exit(3)
    }
    let refused = try await JobQueue.serve(postgres: url, jobs: testJobs, processes: processes, options: options)
    print("refused \(refused)")
    fflush(nil)
}
