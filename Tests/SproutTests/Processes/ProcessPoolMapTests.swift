import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

/// Counts how much of an input a map has read.
@Hub
final class PullCounter {
    var pulled = 0
}

@Suite("ProcessPool maps", .heavy)
struct ProcessPoolMapTests {
    @Test func mapKeepsInputOrder() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let automatic = try await pool.map((0..<2000).map(Square.init))
                #expect(automatic == (0..<2000).map { $0 * $0 })
                let fixed = try await pool.map((0..<100).map(Square.init), chunkSize: 7)
                #expect(fixed == (0..<100).map { $0 * $0 })
                let one = try await pool.map((0..<50).map { Nap(seconds: Double($0 % 3) / 1000) }, chunkSize: 1)
                #expect(one == (0..<50).map { Double($0 % 3) / 1000 })
            }
        }
        #expect(left.isEmpty)
    }

    @Test func slowJobsAfterTinyOnesStillSpreadOverWorkers() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                _ = try await pool.map((0..<3000).map(Square.init))
                #expect(pool.meanTaskSeconds < slack(0.001), "the pool has seen tiny jobs")
                let handles = try (0..<2).map { _ in try pool.submit(WhoAmI(pause: 0.3)) }
                var pids: [Int32] = []
                for handle in handles { pids.append(try await handle.get(timeout: 10)) }
                #expect(Set(pids).count == 2, "one slow job per worker, not both on the first")
            }
        }
        #expect(left.isEmpty)
    }

    @Test func imapReadsAnEndlessInputLazily() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let counter = PullCounter()
                let jobs = (0...).lazy.map { index -> Square in
                    counter.pulled += 1
                    return Square(index)
                }
                var seen: [Int] = []
                for try await output in pool.imap(jobs) {
                    seen.append(output)
                    if seen.count == 300 { break }
                }
                #expect(seen == (0..<300).map { $0 * $0 })
                // The window is at most 4 of the largest chunks per worker, plus a chunk.
                let largest = MapRun<Square>.largestChunk
                #expect(counter.pulled <= 300 + pool.size * 4 * largest + largest, "the input is read only as far as the window")
                try await sleep(0.1)
                let afterwards = counter.pulled
                try await sleep(0.1)
                #expect(counter.pulled == afterwards, "an abandoned map reads no more input")
                #expect(try await pool.run(Square(2)) == 4)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func imapUnorderedYieldsAsJobsFinish() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let jobs = [Nap(seconds: 1), Nap(seconds: 0.01), Nap(seconds: 0.02)]
                var order: [Double] = []
                for try await output in pool.imapUnordered(jobs, chunkSize: 1) { order.append(output) }
                #expect(Set(order) == [1, 0.01, 0.02])
                #expect(order.last == 1)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func mapResultsKeepsGoingPastFailures() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                var outcomes: [Result<Int, any Error>] = []
                for try await outcome in pool.mapResults((0..<20).map(Square.init)) { outcomes.append(outcome) }
                #expect(outcomes.compactMap { try? $0.get() } == (0..<20).map { $0 * $0 })
                await #expect(throws: JobFailed.self) {
                    _ = try await pool.map([Fail(code: 1), Fail(code: 2)])
                }
                var failures = 0
                for try await outcome in pool.mapResults([Fail(code: 1), Fail(code: 2)]) {
                    if case .failure(let error) = outcome, error is JobFailed { failures += 1 }
                }
                #expect(failures == 2)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func starmapAndProgress() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let pairs = [(2, 10), (3, 20)]
                let outputs = try await pool.starmap(pairs) { micros, n in SlowSquare(n, micros: micros) }
                #expect(outputs == [100, 400])
                var last: MapProgress?
                _ = try await pool.map((0..<40).map(Square.init)) { last = $0 }
                #expect(last?.done == 40 && last?.total == 40)
                #expect((last?.rate ?? 0) > 0)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func withProcessPoolAndRunInParallel() async throws {
        try await onHub {
            var pids: [Int32] = []
            let sum = try await withProcessPool(workers: 2, executable: workerExecutable) { pool in
                pids = pool.workerPIDs
                return try await pool.map((1...10).map(Square.init)).reduce(0, +)
            }
            #expect(sum == 385)
            #expect(try await survivors(pids).isEmpty)
            let squares = try await runInParallel((0..<5).map(Square.init), workers: 2, executable: workerExecutable)
            #expect(squares == [0, 1, 4, 9, 16])
        }
    }

    @Test(.heavy(timeLimit: .seconds(180)))
    func chaosNoTaskIsLostWhileWorkersAreKilled() async throws {
        let count = 10_000 * testScale
        let kills = 200 * testScale
        let seed = testSeed()
        let left = try await onHub(seconds: slack(60 * Double(testScale))) {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let mapping = MapInProgress()
                let killer = spawn { () async throws -> Int in
                    var random = SplitMix64(seed: seed)
                    var sent = 0
                    // Up to `kills`, while the map runs: a map that finishes first (a fast
                    // machine, kills that found no busy worker) leaves nobody to kill, and a
                    // killer waiting for one would outlive the test.
                    while sent < kills && mapping.running {
                        try await sleep(0.004)
                        // Only workers in the middle of their jobs: a replacement is ready
                        // within the 4 ms between kills, and killed then it has started no
                        // job, so aimed at any serving worker most kills crashed nothing and
                        // under load `crashed >= 1` below could fail though the pool was right.
                        let busy = pool.workers.filter { $0.isServing && $0.startedUnanswered > 0 }.map(\.pid)
                        guard let victim = busy.randomElement(using: &random) else { continue }
                        kill(victim, SIGKILL)
                        sent += 1
                    }
                    return sent
                }
                var index = 0
                var crashed = 0
                for try await outcome in pool.mapResults((0..<count).map { SlowSquare($0, micros: 100) }) {
                    switch outcome {
                    case .success(let value):
                        #expect(value == index * index)
                    case .failure(let error):
                        #expect(error is WorkerCrashed, "\(error)")
                        crashed += 1
                    }
                    index += 1
                }
                mapping.running = false
                let sent = try await killer.get(timeout: 60)
                print("map chaos: \(crashed) WorkerCrashed for \(sent) kills")
                #expect(index == count, "every task returned")
                #expect(crashed >= 1 && crashed <= sent)
                #expect(try await pool.run(Square(9), timeout: 10) == 81, "the pool answers afterwards")
            }
        }
        #expect(left.isEmpty)
    }
}


/// Maps whose jobs travel in chunks (``FrameKind/jobChunk``): each job still has its own
/// outcome, counted start and recovery.
@Suite("ProcessPool chunked maps", .heavy)
struct ProcessPoolChunkTests {
    @Test func eachJobOfAChunkHasItsOwnOutcome() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let inputs = (0..<60).map { $0 % 7 == 3 ? -$0 : $0 }
                var outcomes: [Result<Int, any Error>] = []
                for try await outcome in pool.mapResults(inputs.map(SquareOrFail.init), chunkSize: 10) { outcomes.append(outcome) }
                #expect(pool.chunkFramesSent >= 6, "the map went in chunk frames")
                #expect(outcomes.count == inputs.count)
                for (input, outcome) in zip(inputs, outcomes) {
                    switch outcome {
                    case .success(let value):
                        #expect(input >= 0 && value == input * input, "job \(input)")
                    case .failure(let error):
                        #expect(input < 0 && (error as? JobFailed)?.error(as: TestJobError.self) == TestJobError(code: input),
                                "job \(input): \(error)")
                    }
                }
            }
        }
        #expect(left.isEmpty)
    }

    /// Plain outputs (strings, some that JSON escapes; booleans; bytes) read from a chunk's
    /// answer without a decoder arrive as the decoders would give them, each with its job,
    /// between failures and in either order.
    @Test func plainOutputsOfAChunkArriveAsTheDecodersGiveThem() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let inputs = (0..<60).map { $0 % 7 == 3 ? -$0 : $0 }
                var texts: [Int: Result<String, any Error>] = [:]
                var index = 0
                for try await outcome in pool.mapResults(inputs.map(TextOrFail.init), chunkSize: 10) {
                    texts[inputs[index]] = outcome
                    index += 1
                }
                var evens: [Result<Bool, any Error>] = []
                for try await outcome in pool.mapResults(inputs.map(EvenOrFail.init), chunkSize: 10) { evens.append(outcome) }
                for (input, even) in zip(inputs, evens) {
                    switch (texts[input], even) {
                    case (.success(let text)?, .success(let isEven)):
                        #expect(input >= 0 && text == TextOrFail.text(input) && isEven == (input % 2 == 0), "job \(input)")
                    case (.failure(let one)?, .failure(let other)):
                        #expect(input < 0 && (one as? JobFailed)?.error(as: TestJobError.self) == TestJobError(code: input)
                                && (other as? JobFailed)?.error(as: TestJobError.self) == TestJobError(code: input), "job \(input)")
                    default:
                        Issue.record("job \(input): \(String(describing: texts[input])), \(even)")
                    }
                }
                // Unordered: each text still goes with its job.
                var unordered: [String] = []
                for try await text in pool.imapUnordered((0..<45).map(TextOrFail.init), chunkSize: 10) { unordered.append(text) }
                #expect(unordered.sorted() == (0..<45).map(TextOrFail.text).sorted())
                let bytes = try await pool.map((0..<30).map { Bytes(count: $0) }, chunkSize: 10)
                #expect(bytes == (0..<30).map { count in (0..<count).map { UInt8(truncatingIfNeeded: $0) } })
                #expect(pool.chunkFramesSent >= 20, "the maps went in chunk frames")
            }
        }
        #expect(left.isEmpty)
    }

    /// `Int` outputs, which a worker writes as digits straight into its answer, arrive as
    /// they were returned: every sign and length, the extremes, in chunks and alone.
    @Test func intOutputsArriveAsReturned() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                var inputs = [0, 1, -1, 9, -9, 10, -10, 99, 100, -100, 1_234_567_890_123, .max, .min, .min + 1, .max - 1]
                for digits in 1...19 {
                    let power = (0..<(digits - 1)).reduce(1) { value, _ in value * 10 }
                    inputs += [power, -power, power - 1, 1 - power]
                }
                #expect(try await pool.map(inputs.map(Same.init), chunkSize: 16) == inputs)
                #expect(pool.chunkFramesSent >= 5, "the map went in chunk frames")
                for input in [Int.min, -7, 0, Int.max] { #expect(try await pool.run(Same(input)) == input) }
            }
        }
        #expect(left.isEmpty)
    }

    /// A worker reads the clock only every few jobs of a chunk while they are tiny; a chunk
    /// of slow jobs after many tiny ones still has each answer sent as its job ends, not
    /// held back until the chunk ends.
    @Test func aChunkOfSlowJobsAfterTinyOnesIsAnsweredJobByJob() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                _ = try await pool.map((0..<3000).map(Square.init), chunkSize: 500)
                var arrivals: [UInt64] = []
                for try await _ in pool.imap(Array(repeating: Nap(seconds: 0.1), count: 6), chunkSize: 6) {
                    arrivals.append(monotonicNanoseconds())
                }
                #expect(pool.chunkFramesSent >= 7)
                // Answered job by job: 0.5 s between the first and the last answer; held
                // back until the chunk's end: none.
                let spread = Double(arrivals[5] - arrivals[0]) / 1e9
                #expect(spread > 0.25, "the first and last answers \(spread) s apart")
            }
        }
        #expect(left.isEmpty)
    }

    /// Slow jobs after tiny ones in the same chunk: the worker, reading the fine clock only
    /// every few tiny jobs, still notices each slow one as it ends (the coarse clock moved)
    /// and sends its answer then, not with the chunk's last.
    @Test func slowJobsAfterTinyOnesInOneChunkAreAnsweredAsTheyEnd() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                let jobs = (0..<46).map { SlowSquare($0, micros: $0 < 40 ? 0 : 100_000) }
                var arrivals: [UInt64] = []
                for try await _ in pool.imap(jobs, chunkSize: jobs.count) { arrivals.append(monotonicNanoseconds()) }
                #expect(pool.chunkFramesSent == 1)
                // Answered as they end: 0.1 s between two slow jobs' answers; one held back
                // until a fine clock read arrives with the next (microseconds apart).
                let gaps = (41..<46).map { Double(arrivals[$0] - arrivals[$0 - 1]) / 1e9 }
                #expect(gaps.allSatisfy { $0 > 0.03 }, "seconds between the slow jobs' answers: \(gaps)")
            }
        }
        #expect(left.isEmpty)
    }

    /// A chunk's jobs run in one call into their type's code; jobs whose `run()` suspends
    /// (on the worker's hub) still run one after another there and each answers for itself.
    @Test func aChunksJobsThatSuspendAnswerInOrder() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let outputs = try await pool.map((0..<30).map { HubNap(value: $0) }, chunkSize: 10)
                #expect(pool.chunkFramesSent >= 3)
                #expect(outputs == Array(0..<30))
            }
        }
        #expect(left.isEmpty)
    }

    /// A worker killed in the middle of a chunk: the jobs it finished keep their outputs
    /// (committed to its ledger one by one), the one running fails with ``WorkerCrashed``,
    /// and the ones it never started run elsewhere, exactly once.
    @Test func aCrashMidChunkFailsOnlyTheJobRunning() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let count = 40
                let dying = 7
                let runs = try SharedArray<Int32>(repeating: 0, count: count)
                let jobs = (0..<count).map { RecordOrDie(id: $0, runs: runs, die: $0 == dying) }
                var outcomes: [Result<Int, any Error>] = []
                for try await outcome in pool.mapResults(jobs, chunkSize: 20) { outcomes.append(outcome) }
                #expect(pool.chunkFramesSent >= 2)
                #expect(outcomes.count == count)
                for (index, outcome) in outcomes.enumerated() where index != dying {
                    #expect((try? outcome.get()) == index, "job \(index): \(outcome)")
                }
                if case .failure(let error) = outcomes[dying] {
                    #expect(error is WorkerCrashed, "the job running at the kill: \(error)")
                } else {
                    Issue.record("the job that killed its worker returned")
                }
                #expect(runs.withLock { buffer, _ in Array(buffer) } == Array(repeating: 1, count: count), "each job ran once")
                #expect(try await pool.run(Square(5)) == 25)
            }
        }
        #expect(left.isEmpty)
    }

    /// A map abandoned while its chunks are out: the jobs its workers have not reached are
    /// skipped there, so the pool is free again within a job, not a chunk.
    @Test func anAbandonedChunkedMapStopsWithinAJob() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let runs = try SharedArray<Int32>(repeating: 0, count: 400)
                let jobs = (0..<400).map { RecordRun(id: $0, runs: runs, spinMicroseconds: 5_000) }
                var seen = 0
                for try await _ in pool.imap(jobs, chunkSize: 200) {
                    seen += 1
                    if seen == 5 { break }
                }
                #expect(pool.chunkFramesSent == 2)
                // Whole chunks would keep both workers busy for a second.
                #expect(try await pool.run(Square(2), timeout: slack(0.5)) == 4)
                let counts = runs.withLock { buffer, _ in Array(buffer) }
                #expect(counts.allSatisfy { $0 <= 1 }, "no job ran twice")
                #expect(counts.reduce(0, +) < 100, "the workers skipped the rest of their chunks: \(counts.reduce(0, +)) ran")
            }
        }
        #expect(left.isEmpty)
    }

    /// A chunk travels as one task, yet a worker's `maxTasksPerWorker` still counts its
    /// jobs: a chunk larger than what a worker has left is split between workers.
    @Test func aWorkersTaskLimitSplitsAChunk() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1, maxTasksPerWorker: 7) { (pool: ProcessPool) async throws in
                let pids = try await pool.map(Array(repeating: WhoAmI(), count: 30), chunkSize: 10)
                #expect(pool.chunkFramesSent >= 4)
                // Runs of one pid, in input order: 7, 7, 7, 7 and the last 2.
                var runs: [Int] = []
                for (index, pid) in pids.enumerated() {
                    if index > 0 && pids[index - 1] == pid { runs[runs.count - 1] += 1 } else { runs.append(1) }
                }
                #expect(runs == [7, 7, 7, 7, 2], "jobs per worker: \(runs)")
                #expect(Set(pids).count == 5)
            }
        }
        #expect(left.isEmpty)
    }

    /// A chunk whose outputs outgrow the worker's outbox: its outcomes come in several
    /// frames, and one output larger than the whole outbox comes on its own.
    @Test func aChunkLargerThanTheOutboxArrivesWhole() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                // Tiny jobs, so their outcomes are held back until the outbox is full.
                let sizes = (0..<600).map { $0 == 300 ? WorkerLedger.outboxCapacity + 1000 : 200 }
                let outputs = try await pool.map(sizes.map { Bytes(count: $0) }, chunkSize: 600)
                #expect(pool.chunkFramesSent == 1)
                #expect(outputs.map(\.count) == sizes)
                #expect(outputs.allSatisfy { $0 == (0..<$0.count).map { UInt8(truncatingIfNeeded: $0) } })
            }
        }
        #expect(left.isEmpty)
    }
}

/// Whether the map of the chaos test still runs, so its killer stops with it.
@Hub
private final class MapInProgress {
    var running = true
}
