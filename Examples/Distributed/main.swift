// The CPU-offload example's CountPrimes jobs, run by worker hosts through PostgreSQL.
//
//   sprout-distributed worker URL [PROCESSES] [LEASE_SECONDS] [--async-answers]
//       serves the queue until SIGTERM, with a local pool of PROCESSES (default 1);
//       --async-answers: answers do not wait for the disk (JobQueueWorkerOptions.durableAnswers)
//   sprout-distributed submit URL JOBS [KILL_PID]
//       submits JOBS pieces of 100 numbers each, checks every count against one made
//       here, and SIGKILLs KILL_PID (a worker host) once half the results are in
//   sprout-distributed bench URL JOBS [--async-submissions]
//       prints jobs/s for JOBS tiny jobs end to end and the median round trip of one job;
//       --async-submissions: submissions do not wait for the disk (JobQueue.connect's durableSubmissions)
import Sprout
import SproutExamplesSupport
import SproutPostgres

import Glibc

try ProcessPool.serveIfWorker(jobs: [CountPrimes.self])

/// What went wrong, said in one line, exit code 1.
struct DemoFailure: Error, CustomStringConvertible {
    let description: String
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    print("usage: sprout-distributed worker URL [PROCESSES] [LEASE] | submit URL JOBS [KILL_PID]")
    exit(2)
}
let (command, url) = (arguments[0], arguments[1])
let numbers = arguments.dropFirst(2).compactMap { Double($0) }

switch command {
case "worker":
    var options = JobQueueWorkerOptions()
    options.leaseSeconds = numbers.count > 1 ? numbers[1] : 5
    options.durableAnswers = !arguments.contains("--async-answers")
    let processes = numbers.first.map { Int($0) } ?? 1
    // Captured by value: top-level variables belong to the main actor, which cannot run
    // while Hub.run blocks the main thread.
    try Hub.run { [url, options, processes] in
        let refused = try await JobQueue.serve(postgres: url, jobs: [CountPrimes.self], processes: processes, options: options)
        print("worker \(getpid()): drained; \(refused) late answers refused")
    }
case "submit":
    let jobs = numbers.first.map { Int($0) } ?? 10_000
    let victim = numbers.count > 1 ? Int32(numbers[1]) : nil
    try Hub.run { [url, jobs, victim] in
        let queue = try await JobQueue.connect(url)
        defer { queue.close() }
        let pieces = (0..<jobs).map { CountPrimes(lower: $0 * 100, upper: $0 * 100 + 100) }
        let started = monotonicSeconds()
        let handles = try await queue.submitAll(pieces)
        var counts: [Int?] = []
        for (index, handle) in handles.enumerated() {
            if index == jobs / 2, let victim {
                print("\(index) results in: killing worker host \(victim)")
                kill(victim, SIGKILL)
            }
            counts.append(try? await handle.get(timeout: 600))
        }
        let seconds = monotonicSeconds() - started
        // Checked on a thread: counting them all again would block the hub for a while.
        let expected = try await offloadBlocking { pieces.map { countPrimes(from: $0.lower, to: $0.upper) } }
        let wrong = (0..<jobs).filter { counts[$0] != expected[$0] }
        let db = try await PostgresConnection.connect(url)
        defer { db.close() }
        let rerun = try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE attempts > 1").rows[0][0].int ?? 0
        print("\(jobs) jobs in \((seconds * 100).rounded() / 100) s (\(Int(Double(jobs) / seconds)) jobs/s): "
              + "\(jobs - wrong.count) correct, \(wrong.count) wrong or failed; \(rerun) re-run after their host died")
        guard wrong.isEmpty else { throw DemoFailure(description: "jobs \(wrong.prefix(10)) are wrong or failed") }
    }
case "bench":
    // The Swift side of bench/compare/queue_compare.py: tiny jobs end to end, then one job's
    // round trip (submit to outcome) 50 times.
    let jobs = numbers.first.map { Int($0) } ?? 10_000
    let durable = !arguments.contains("--async-submissions")
    try Hub.run { [url, jobs, durable] in
        let queue = try await JobQueue.connect(url, durableSubmissions: durable)
        defer { queue.close() }
        let started = monotonicSeconds()
        let handles = try await queue.submitAll((0..<jobs).map { CountPrimes(lower: $0, upper: $0 + 1) })
        for handle in handles { _ = try await handle.get(timeout: 300) }
        print("jobs_per_s \(Double(jobs) / (monotonicSeconds() - started))")
        var trips: [Double] = []
        for n in 0..<50 {
            let start = monotonicSeconds()
            _ = try await queue.submit(CountPrimes(lower: n, upper: n + 1)).get(timeout: 30)
            trips.append((monotonicSeconds() - start) * 1000)
        }
        print("roundtrip_ms_median \(trips.sorted()[trips.count / 2])")
    }
default:
    print("unknown command \(command)")
    exit(2)
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
