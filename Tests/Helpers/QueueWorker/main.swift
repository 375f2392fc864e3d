// A job queue worker host for the queue tests: `sprout-queue-worker URL PROCESSES LEASE
// [async-answers] [log-stdout] [keep-finished=SECONDS] [types=NAME,NAME...]` (`async-answers`:
// `JobQueueWorkerOptions.durableAnswers = false`; `log-stdout`: the `logger:` given to
// `JobQueue.serve` writes on standard output; `keep-finished`: `keepFinishedSeconds`; `types`:
// serves only the test job types of those `jobName`s, as a host of another build would).
// Serves the test job types until SIGTERM, then prints "refused N" (what `JobQueue.serve`
// returns: answers the table refused, their lease token gone) and exits 0; if serving throws,
// prints "serve threw: ERROR" and exits 1; exits 3 at once when its standard input (a pipe
// from the test) reaches end of file.
import Logging
import Sprout
import SproutPostgres
import SproutTestJobs

import Glibc

try ProcessPool.serveIfWorker(jobs: testJobs)

let arguments = CommandLine.arguments
let flags = Set(arguments.dropFirst(4).filter { !$0.contains("=") })
let values = Dictionary(arguments.dropFirst(4).compactMap { argument -> (String, String)? in
    let parts = argument.split(separator: "=", maxSplits: 1)
    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
}, uniquingKeysWith: { $1 })
guard arguments.count >= 4, flags.isSubset(of: ["async-answers", "log-stdout"]),
      Set(values.keys).isSubset(of: ["keep-finished", "types"]), values["keep-finished"].map({ Double($0) != nil }) ?? true,
      let processes = Int(arguments[2]), let lease = Double(arguments[3]) else {
    let usage = "usage: sprout-queue-worker URL PROCESSES LEASE_SECONDS [async-answers] [log-stdout] [keep-finished=SECONDS] [types=NAME,...]\n"
    _ = usage.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
var options = JobQueueWorkerOptions()
options.leaseSeconds = lease
options.durableAnswers = !flags.contains("async-answers")
if let keep = values["keep-finished"].flatMap(Double.init) { options.keepFinishedSeconds = keep }
let served = values["types"].map { names in
    let wanted = Set(names.split(separator: ",").map(String.init))
    return testJobs.filter { wanted.contains($0.jobName) }
} ?? testJobs
let logger = flags.contains("log-stdout") ? Logger(label: "queue-host") { StreamLogHandler.standardOutput(label: $0) } : nil
let url = arguments[1]
// Captured by value: top-level variables are the main actor's, which cannot run while
// `Hub.run` blocks the main thread.
try Hub.run { [url, processes, options, logger, served] in
    // The test holds the other end of standard input: end of file means it is gone (maybe
    // killed by SIGKILL), and a host must not outlive it.
    _ = spawn(name: "test process watch") {
        _ = try await PipeStream.standardInput().readToEnd()
        _exit(3)
    }
    do {
        let refused = try await JobQueue.serve(postgres: url, jobs: served, processes: processes, options: options, logger: logger)
        print("refused \(refused)")
    } catch {
        print("serve threw: \(error)")
        fflush(nil)
        exit(1)
    }
    fflush(nil)
}
