import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

/// The pool under faults: kills at any moment, start-ups that cannot succeed.
@Suite("ProcessPool under kills", .heavy(timeLimit: .seconds(150 * testScale)))
struct ProcessPoolChaosTests {
    /// At least 20,000 jobs (times SPROUT_TEST_SCALE) while at least 1,000 SIGKILLs hit
    /// random workers, starting ones included, at random 1–5 ms intervals; then 1,000 more
    /// jobs and a graceful `shutdown()`, with the kills going on until it returns. Every
    /// job ends exactly once with its value or WorkerCrashed, none runs twice, the pool
    /// neither breaks nor leaks, and no worker is left.
    @Test func killsAtAnyMomentNeverBreakThePool() async throws {
        let jobCount = 20_000 * testScale
        let killCount = 1_000 * testScale
        let seed = testSeed()
        print("ProcessPool chaos: \(jobCount) jobs, \(killCount) kills")
        let report = try await onHub(seconds: slack(110 * Double(testScale))) {
            try await chaos(jobCount: jobCount, killCount: killCount, seed: seed)
        }
        print("ProcessPool chaos: \(report)")
        #expect(report.survivors.isEmpty, "no worker is left after shutdown")
    }

    /// A program whose workers cannot start (here: they exit before serving) fails the
    /// waiting jobs with the clear message within 2 s, and the next job tries again.
    @Test func workersThatCannotStartFailTheWaitingJobsAndTheNextJobTriesAgain() async throws {
        let gate = "/tmp/sprout-start-gate-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let left = try await onHub {
            setenv(startGateVariable, gate, 1)
            let pool: ProcessPool
            do {
                pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2)
            } catch {
                unsetenv(startGateVariable)
                throw error
            }
            unsetenv(startGateVariable)
            defer { unlink(gate) }
            close(open(gate, O_CREAT | O_WRONLY, 0o600))
            let before = pool.workerPIDs
            for pid in before { kill(pid, SIGKILL) }
            let started = monotonicNanoseconds()
            let handles = try (0..<5).map { try pool.submit(Square($0)) }
            for handle in handles {
                await #expect {
                    _ = try await handle.get(timeout: 5)
                } throws: { error in
                    guard case .workersFailedToStart(let attempts, let reason)? = error as? ProcessPoolError else { return false }
                    return attempts == 3 && reason.contains("exit code 3") && "\(error)".contains("serveIfWorker")
                }
            }
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            #expect(seconds < 2, "waiting jobs failed after \(seconds) s")
            unlink(gate)
            #expect(try await pool.run(Square(3), timeout: 10) == 9, "the next job starts workers again")
            await pool.terminate()
            return try await survivors(pool.spawnedPIDs)
        }
        #expect(left.isEmpty)
    }
}

/// Set in a test worker's environment to a path: while a file is there, the worker exits
/// with status 3 before serving, as a misconfigured program would.
let startGateVariable = "SPROUT_TEST_START_GATE"

/// What the chaos run saw.
struct ChaosReport: Sendable, CustomStringConvertible {
    var jobs = 0
    var kills = 0
    /// Of `kills`, those delivered while `shutdown()` ran.
    var shutdownKills = 0
    var crashed = 0
    var seconds = 0.0
    var survivors: [Int32] = []

    var description: String {
        "\(jobs) jobs, \(kills) SIGKILLs (\(shutdownKills) during shutdown), \(crashed) WorkerCrashed, \(Double(Int(seconds * 10)) / 10) s"
    }
}

/// The number of descriptors this process has open.
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count
}

/// This process's resident memory in bytes.
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { size in
        withUnsafeMutablePointer(to: &resident) { resident in
            withVaList([size, resident]) { vfscanf(file, "%ld %ld", $0) }
        }
    }) == 2 else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Whether the chaos test's killer has delivered all its signals, and whether the one that
/// kills during shutdown should stop.
@Hub
private final class KillerState {
    var done = false
    var stop = false
}

@Hub
private func chaos(jobCount: Int, killCount: Int, seed: UInt64) async throws -> ChaosReport {
    var random = SplitMix64(seed: seed)
    // Room for the jobs submitted while the kills go on after the first `jobCount`, and
    // for the last round, submitted before shutdown.
    let capacity = jobCount * 8 + 1_000
    let runs = try SharedArray<Int32>(repeating: 0, count: capacity)
    let pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2)
    var report = ChaosReport()
    do {
        for round in 0..<4 {
            let warmUp = try (0..<250).map { _ in try pool.submit(RecordRun(id: -1, runs: runs, spinMicroseconds: 100 + round)) }
            _ = try await joinAll(warmUp, timeout: 30)
        }
        try await pool.waitUntil(timeout: 10) { $0.workers.count == $0.size && $0.workers.allSatisfy(\.isServing) }
        let descriptors = openDescriptorCount()
        let resident = residentBytes()
        let started = monotonicNanoseconds()

        let killing = KillerState()
        let killerSeed = random.next()
        let killer = spawn { () async throws -> Int in
            var random = SplitMix64(seed: killerSeed)
            var delivered = 0
            defer { killing.done = true }
            while delivered < killCount {
                try await sleep(Double(Int.random(in: 1_000...5_000, using: &random)) / 1e6)
                // Any worker, starting or serving.
                // A pid of 0 or -1 would signal the test runner's group (or everything).
                guard let pid = pool.workerPIDs.randomElement(using: &random), pid > 0 else { continue }
                if kill(pid, SIGKILL) == 0 { delivered += 1 }
            }
            return delivered
        }
        // Rounds of jobs, a few in flight at once, until both the jobs and the kills are done.
        var rounds: [(first: Int, handles: [JobHandle<Int>])] = []
        var submitted = 0
        var values = 0
        func settle(_ round: (first: Int, handles: [JobHandle<Int>])) async throws {
            _ = try await joinAll(round.handles, timeout: 100)
            for (offset, handle) in round.handles.enumerated() {
                let id = round.first + offset
                if let value = handle.value {
                    #expect(value == id * 3, "job \(id) returned \(value)")
                    values += 1
                } else if handle.error is WorkerCrashed {
                    report.crashed += 1
                } else {
                    Issue.record("job \(id) ended with \(String(describing: handle.error)), not its value or WorkerCrashed")
                }
            }
        }
        while (submitted < jobCount || !killing.done) && submitted + 2_000 <= capacity {
            let spin = Int.random(in: 60...140, using: &random)
            let handles = try (submitted..<(submitted + 1_000)).map {
                try pool.submit(RecordRun(id: $0, runs: runs, spinMicroseconds: spin))
            }
            rounds.append((submitted, handles))
            submitted += 1_000
            if rounds.count >= 4 { try await settle(rounds.removeFirst()) }
        }
        for round in rounds { try await settle(round) }
        rounds = []
        report.kills = try await killer.get()
        report.jobs = submitted
        report.seconds = Double(monotonicNanoseconds() - started) / 1e9
        #expect(report.kills >= killCount, "the jobs ended before the kills: make them longer")
        #expect(values + report.crashed == submitted, "every job ended exactly once")
        #expect(report.crashed <= report.kills, "\(report.crashed) WorkerCrashed for \(report.kills) SIGKILLs")
        let counts = runs.values
        let twice = counts[0..<submitted].enumerated().filter { $0.element > 1 }.map(\.offset)
        #expect(twice.isEmpty, "jobs that ran more than once: \(twice.prefix(20))")

        #expect(try await pool.run(Square(9), timeout: 10) == 81, "the pool answers afterwards")
        try await pool.waitUntil(timeout: 10) { $0.workers.count == $0.size && $0.workers.allSatisfy(\.isServing) }
        #expect(openDescriptorCount() == descriptors, "open descriptors after the kills")
        let grown = residentBytes()
        #expect(grown <= max(resident + resident / 10, resident + 16 << 20),
                "resident memory \(resident >> 20) MiB after the warm-up, \(grown >> 20) MiB after the kills")

        // A graceful shutdown while the kills go on: queued and running jobs still end once
        // each, shutdown returns, and every worker — replacements included — is gone.
        let last = (first: submitted, handles: try (submitted..<(submitted + 1_000)).map {
            // Long enough (about 150 ms on two workers) for tens of kills to land.
            try pool.submit(RecordRun(id: $0, runs: runs, spinMicroseconds: 300))
        })
        submitted += 1_000
        let stopping = KillerState()
        let shutdownKiller = spawn { () async throws -> Int in
            var random = SplitMix64(seed: killerSeed &+ 1)
            var delivered = 0
            while !stopping.stop {
                try await sleep(Double(Int.random(in: 1_000...5_000, using: &random)) / 1e6)
                // A pid of 0 or -1 would signal the test runner's group (or everything).
                guard let pid = pool.workerPIDs.randomElement(using: &random), pid > 0 else { continue }
                if kill(pid, SIGKILL) == 0 { delivered += 1 }
            }
            return delivered
        }
        try await withTimeout(60) { try await pool.shutdown() }
        stopping.stop = true
        let shutdownKills = try await shutdownKiller.get()
        report.kills += shutdownKills
        try await settle(last)
        #expect(values + report.crashed == submitted, "every job ended exactly once, also through shutdown")
        let twiceAtShutdown = runs.values[last.first..<submitted].enumerated().filter { $0.element > 1 }.map(\.offset)
        #expect(twiceAtShutdown.isEmpty, "jobs that ran more than once during shutdown: \(twiceAtShutdown.prefix(20))")
        #expect(pool.workerPIDs.isEmpty, "shutdown returned with workers running")
        #expect(shutdownKills >= 1, "no kill landed during shutdown: make the last round longer")
        #expect(report.crashed <= report.kills, "\(report.crashed) WorkerCrashed for \(report.kills) SIGKILLs")
        report.jobs = submitted
        report.shutdownKills = shutdownKills
    } catch {
        await pool.terminate()
        throw error
    }
    await pool.terminate()
    report.survivors = try await survivors(pool.spawnedPIDs)
    return report
}
