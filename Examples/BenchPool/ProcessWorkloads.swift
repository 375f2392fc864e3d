import Sprout
import SproutBenchSupport

import Glibc

/// Does nothing: the cost of a round trip through the pool.
struct Noop: ProcessJob {
    func run() -> Int { 0 }
}

/// A tiny job: what `Pool.map` costs per item when the work is negligible.
struct Double2: ProcessJob {
    var value: Int
    func run() -> Int { value * 2 }
}

/// Counts the primes in a range by trial division: pure CPU work.
struct CountPrimes: ProcessJob {
    var lower: Int
    var upper: Int
    func run() -> Int {
        var count = 0
        for candidate in max(lower, 2)..<upper {
            var divisor = 2
            var prime = true
            while divisor * divisor <= candidate {
                if candidate % divisor == 0 { prime = false; break }
                divisor += 1
            }
            if prime { count += 1 }
        }
        return count
    }
}

/// Answers with its worker's pid and when it started (CLOCK_MONOTONIC in ns, one clock for
/// every process), after holding its worker `milliseconds`.
struct StartedBy: ProcessJob {
    var milliseconds: Int
    func run() -> [Int64] {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        usleep(UInt32(milliseconds * 1000))
        return [Int64(getpid()), Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)]
    }
}

/// The job types `sprout-bench` serves as a pool worker.
let processJobs: [any ProcessJob.Type] = [Noop.self, Double2.self, CountPrimes.self, StartedBy.self]

/// The process pool's workloads: start-up, round trip, many tiny tasks, CPU speedup.
let processWorkloads: [Workload] = [
    Workload(name: "pool-ready", usage: "pool-ready: ms until a pool of 2 workers has answered one job") { _ in
        let milliseconds = try Hub.run {
            let start = now()
            let pool = try await ProcessPool(workers: 2)
            _ = try await pool.run(Noop())
            let elapsed = now() - start
            await pool.terminate()
            return elapsed * 1000
        }
        report(milliseconds)
    },
    Workload(name: "pool-replace", usage: "pool-replace N [PAUSE_MS]: median ms from SIGKILL on the only worker of an idle pool until a job has run on its replacement, over N kills, PAUSE_MS apart after each replacement (default 0: the fork server may still be forking its next spare)") { arguments in
        let count = intArgument(arguments, 0, 20)
        let pause = intArgument(arguments, 1, 0)
        let milliseconds = try Hub.run {
            let pool = try await ProcessPool(workers: 1)
            for _ in 0..<50 { _ = try await pool.run(Noop()) }
            var times: [Double] = []
            for _ in 0..<count {
                if pause > 0 { try await sleep(Double(pause) / 1000) }
                let worker = pool.workerPIDs[0]
                let start = now()
                kill(worker, SIGKILL)
                // The job goes to the replacement: one the dead worker never started is
                // queued again, not failed.
                _ = try await pool.run(Noop())
                times.append(now() - start)
                precondition(pool.workerPIDs != [worker])
            }
            await pool.terminate()
            return times.sorted()[times.count / 2] * 1000
        }
        report(milliseconds)
    },
    Workload(name: "pool-replace-pair", usage: "pool-replace-pair N: median ms from SIGKILL on both workers of an idle 2-worker pool at once until the later replacement starts a job, over N double kills (the earlier one's median on stderr): the fork server keeps one spare, so the second is forked on request") { arguments in
        let count = intArgument(arguments, 0, 20)
        let (first, second) = try Hub.run {
            let pool = try await ProcessPool(workers: 2)
            for _ in 0..<50 { _ = try await pool.run(StartedBy(milliseconds: 1)) }
            var firsts: [Double] = []
            var seconds: [Double] = []
            for _ in 0..<count {
                // The server forks its spare 1 ms after the last start: the last round's is ready.
                try await sleep(0.02)
                let killed = Set(pool.workerPIDs)
                var time = timespec()
                clock_gettime(CLOCK_MONOTONIC, &time)
                let start = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
                for worker in killed { kill(worker, SIGKILL) }
                // Each job holds its worker 20 ms, longer than a start: one per replacement.
                let handles = try (0..<2).map { _ in try pool.submit(StartedBy(milliseconds: 20)) }
                var answers: [[Int64]] = []
                for handle in handles { answers.append(try await handle.get()) }
                precondition(Set(answers.map { Int32($0[0]) }).count == 2 && answers.allSatisfy { !killed.contains(Int32($0[0])) })
                let started = answers.map { Double($0[1] - start) / 1e6 }.sorted()
                firsts.append(started[0])
                seconds.append(started[1])
            }
            await pool.terminate()
            return (firsts.sorted()[count / 2], seconds.sorted()[count / 2])
        }
        let line = "pool-replace-pair: the earlier replacement's median \(first) ms\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        report(second)
    },
    Workload(name: "pool-roundtrip", usage: "pool-roundtrip N: µs per job run one at a time on an idle 1-worker pool") { arguments in
        let count = intArgument(arguments, 0, 20_000)
        let micros = try Hub.run {
            let pool = try await ProcessPool(workers: 1)
            for _ in 0..<200 { _ = try await pool.run(Noop()) }
            let start = now()
            for _ in 0..<count { _ = try await pool.run(Noop()) }
            let elapsed = now() - start
            await pool.terminate()
            return elapsed / Double(count) * 1e6
        }
        report(micros)
    },
    Workload(name: "pool-map-tiny", usage: "pool-map-tiny N CHUNK: tasks/s mapping N tiny jobs on 2 workers (CHUNK 0: automatic)") { arguments in
        let count = intArgument(arguments, 0, 100_000)
        let chunk = intArgument(arguments, 1, 1)
        let rate = try Hub.run {
            let pool = try await ProcessPool(workers: 2)
            let jobs = (0..<count).map { Double2(value: $0) }
            let start = now()
            let outputs = try await pool.map(jobs, chunkSize: chunk == 0 ? nil : chunk)
            let elapsed = now() - start
            precondition(outputs.count == count && outputs.last == 2 * (count - 1))
            await pool.terminate()
            return Double(count) / elapsed
        }
        report(rate)
    },
    Workload(name: "pool-primes", usage: "pool-primes LIMIT [even]: speedup of counting primes below LIMIT in 8 pieces on 2 workers over one process (even: pieces of equal cost rather than equal width)") { arguments in
        let limit = intArgument(arguments, 0, 2_000_000)
        let pieces = primePieces(below: limit, evenCost: arguments.count > 1 && arguments[1] == "even")
        let speedup = try Hub.run {
            let serialStart = now()
            let serial = pieces.map { $0.run() }.reduce(0, +)
            let serialSeconds = now() - serialStart
            let pool = try await ProcessPool(workers: 2)
            let start = now()
            let parallel = try await pool.map(pieces, chunkSize: 1).reduce(0, +)
            let seconds = now() - start
            precondition(serial == parallel)
            await pool.terminate()
            return serialSeconds / seconds
        }
        report(speedup)
    },
]

/// The 8 pieces of the prime workload. Equal widths cost unequal time — trial division up
/// to `n` costs about `n^1.5` — so, run in order on 2 workers, they cannot beat about
/// 1.87x whatever the pool does. With `evenCost`, piece `k` ends at `limit * ((k+1)/8)^(2/3)`,
/// which makes the pieces cost about the same (21.2 to 25.7 million divisions below
/// 2,000,000, ceiling 1.98x: `python3 bench/compare/peers/mp_pool.py primes-cost LIMIT [even]`).
func primePieces(below limit: Int, evenCost: Bool) -> [CountPrimes] {
    func bound(_ k: Int) -> Int {
        evenCost ? Int(Double(limit) * pow(Double(k) / 8, 2.0 / 3.0)) : limit * k / 8
    }
    return (0..<8).map { CountPrimes(lower: bound($0), upper: bound($0 + 1)) }
}
