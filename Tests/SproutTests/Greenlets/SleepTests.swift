import Testing
@testable import Sprout

@Suite(.heavy)
struct SleepTests {
    @Test func fiftyMillisecondsWakesWithinFiftyToSixty() async throws {
        // On a loaded machine one wake-up can be late; never early, and the best of five
        // must be within 10 ms (times SPROUT_TIMING_SLACK).
        let lateness = try await spawn { () async throws -> [UInt64] in
            var lateness: [UInt64] = []
            for _ in 0..<5 {
                let start = monotonicNanoseconds()
                try await sleep(0.05)
                lateness.append(monotonicNanoseconds() - start)
            }
            return lateness
        }.get()
        #expect(lateness.allSatisfy { $0 >= 50_000_000 }, "woke early: \(lateness)")
        #expect(lateness.min()! < 50_000_000 + slack(nanoseconds: 10_000_000), "best wake-up: \(lateness.min()!) ns")
    }

    @Test func sleepZeroLetsEveryReadyGreenletRunFirst() async throws {
        // Spawned from a greenlet, so all four are queued before any of them runs.
        let lines = try await spawn { () async throws -> [String] in
            let transcript = Transcript()
            let first = spawn {
                transcript.add("a1")
                try await sleep(0)
                transcript.add("a2")
            }
            let others = (0..<3).map { index in spawn { transcript.add("b\(index)") } }
            try await joinAll([first] + others)
            return transcript.lines
        }.get()
        #expect(lines == ["a1", "b0", "b1", "b2", "a2"])
    }

    @Test func shorterSleepsWakeFirst() async throws {
        let transcript = Transcript()
        let sleepers = [0.06, 0.02, 0.04].map { seconds in
            spawn {
                try await sleep(seconds)
                transcript.add("\(seconds)")
            }
        }
        try await joinAll(sleepers)
        #expect(await transcript.lines == ["0.02", "0.04", "0.06"])
    }

    @Test func killingASleeperEndsTheSleepAtOnce() async throws {
        let sleeper = spawn { try await sleep(3600) }
        try await sleep(0.01)
        let start = monotonicNanoseconds()
        try await sleeper.kill()
        #expect(monotonicNanoseconds() - start < slack(nanoseconds: 1_000_000_000))
        #expect(sleeper.error is GreenletExit)
    }
}
