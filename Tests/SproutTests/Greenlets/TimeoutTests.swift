import Testing
@testable import Sprout

@Suite(.heavy)
struct TimeoutTests {
    @Test func aTimedOutGreenletCatchesTimeoutAndGoesOn() async throws {
        let greenlet = spawn { () async throws -> [String] in
            var log: [String] = []
            do {
                try await withTimeout(0.02) { try await sleep(3600) }
                log.append("not timed out")
            } catch is Timeout {
                log.append("timed out")
            }
            // The greenlet is not cancelled: it can still wait.
            try await sleep(0.01)
            log.append("went on")
            return log
        }
        #expect(try await greenlet.get() == ["timed out", "went on"])
    }

    @Test func aBodyThatFinishesInTimeReturnsItsValue() async throws {
        let value = try await spawn { try await withTimeout(1) { try await sleep(0.01); return 7 } }.get()
        #expect(value == 7)
        let fallback = try await spawn { try await withTimeout(0.01, default: -1) { try await sleep(3600); return 7 } }.get()
        #expect(fallback == -1)
    }

    @Test func theInnerOfTwoNestedTimeoutsFiresFirst() async throws {
        let result = try await spawn { () async throws -> String in
            try await withTimeout(1) {
                do {
                    try await withTimeout(0.02) { try await sleep(3600) }
                    return "no timeout"
                } catch let timeout as Timeout {
                    return "inner \(timeout.seconds)"
                }
            }
        }.get()
        #expect(result == "inner 0.02")
    }

    @Test func theOuterOfTwoNestedTimeoutsFiresThroughTheInner() async throws {
        let result = try await spawn { () async throws -> String in
            do {
                try await withTimeout(0.02) {
                    try await withTimeout(5) { try await sleep(3600) }
                }
                return "no timeout"
            } catch let timeout as Timeout {
                return "outer \(timeout.seconds)"
            }
        }.get()
        #expect(result == "outer 0.02")
    }

    @Test func killingTheCallerIsNotMistakenForATimeout() async throws {
        let greenlet = spawn { try await withTimeout(5) { try await sleep(3600) } }
        try await sleep(0.01)
        try await greenlet.kill()
        #expect(greenlet.error is GreenletExit)
    }

    /// A timeout's body runs in a task of its own; its calls into hub code must run in
    /// place as a greenlet's do, not hop through the hub's queue and back (which is slow,
    /// and lets a wake-up fall between a wait's check and its park).
    @Test func aTimeoutsBodyCallsHubCodeWithoutHopping() async throws {
        try await spawn {
            try await withTimeout(5) {
                let before = LoopExecutor.shared.itemsStarted.load(ordering: .relaxed)
                for _ in 0..<1000 { await hubCall() }
                let hops = LoopExecutor.shared.itemsStarted.load(ordering: .relaxed) - before
                #expect(hops < 200, "1000 calls went through the hub's queue \(hops) times")
            }
        }.get()
    }
}

/// An async hub function that does not suspend.
@Hub private func hubCall() async {}
