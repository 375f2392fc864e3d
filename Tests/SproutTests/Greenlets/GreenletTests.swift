import Testing
@testable import Sprout
import SproutTestSupport

@Suite(.heavy)
struct GreenletTests {
    @Test func joinTimesOutWhileTheGreenletRuns() async throws {
        let slow = spawn { try await sleep(5) }
        #expect(try await slow.join(timeout: 0.02) == false)
        #expect(!slow.isReady)
        slow.cancel()
        #expect(try await slow.join(timeout: 5) == true)
        await #expect(throws: Timeout.self) { try await spawn { try await sleep(1) }.get(timeout: 0.01) }
    }

    @Test func killRunsCleanupAndWakesEveryWaiter() async throws {
        let transcript = Transcript()
        let victim = spawn {
            defer { transcript.add("cleanup") }
            try await sleep(3600)
        }
        let waiters = (0..<3).map { index in
            spawn {
                try await victim.join()
                transcript.add("waiter \(index) woke")
            }
        }
        try await sleep(0.01)
        try await victim.kill()
        try await joinAll(waiters, raiseError: true)
        let lines = await transcript.lines
        #expect(lines.first == "cleanup")
        #expect(Set(lines.dropFirst()) == ["waiter 0 woke", "waiter 1 woke", "waiter 2 woke"])
        #expect(victim.error is GreenletExit)
        await #expect(throws: GreenletExit.self) { try await victim.get() }
    }

    @Test func aGreenletThatCatchesTheKillCanReturnAValue() async throws {
        let stubborn = spawn { () async throws -> String in
            do {
                try await sleep(3600)
                return "slept"
            } catch is CancellationError {
                return "caught the kill"
            }
        }
        try await sleep(0.01)
        try await stubborn.kill()
        #expect(try await stubborn.get() == "caught the kill")
    }

    @Test func killingBeforeItStartsMeansTheBodyNeverRuns() async throws {
        // Spawned and killed in one turn of the hub: from the test's own thread, the hub
        // could take the start from its inbox and run the body before the kill.
        let (killed, lines) = try await onHub { () async throws -> (Bool, [String]) in
            let transcript = Transcript()
            let greenlet = spawn { transcript.add("ran") }
            greenlet.cancel()
            try await greenlet.join()
            return (greenlet.error is GreenletExit, transcript.lines)
        }
        #expect(killed)
        #expect(lines.isEmpty)
    }

    @Test func aGreenletKilledWhileItsStartIsQueuedWakesItsJoinerAndCallsBackOnce() async throws {
        // Spawned and killed from a greenlet, which then parks in join before the hub reaches
        // the queued start: the joiner must be woken by that start, not left waiting.
        let (joined, lines) = try await onHub { () async throws -> (Bool, [String]) in
            let transcript = Transcript()
            let victim = spawn { transcript.add("body ran") }
            victim.onDone { transcript.add("done") }
            victim.cancel()
            let joined = try await victim.join(timeout: slack(5))
            #expect(victim.error is GreenletExit)
            try await sleep(0)
            return (joined, transcript.lines)
        }
        #expect(joined)
        #expect(lines == ["done"])
    }

    @Test func onDoneRunsOnTheHubAfterTheGreenletFinishes() async throws {
        let transcript = Transcript()
        let greenlet = spawn { try await sleep(0.01) }
        greenlet.onDone {
            #expect(Hub.isCurrent)
            transcript.add("linked")
        }
        try await greenlet.join()
        try await sleep(0)
        // Linking to a finished greenlet still calls back, on a later turn.
        greenlet.onDone { transcript.add("late link") }
        try await sleep(0)
        #expect(await transcript.lines == ["linked", "late link"])
    }

    @Test func currentContextNamesTheRunningGreenlet() async throws {
        let named = spawn(name: "worker-7") { GreenletContext.current?.name }
        #expect(try await named.get() == "worker-7")
        #expect(GreenletContext.current == nil)
    }

    @Test func aTimeoutsBodyIsStillItsGreenletsCode() async throws {
        let names = try await spawn(name: "caller") { () async throws -> [String?] in
            let outside = GreenletContext.current?.name
            let inside = try await withTimeout(5) { GreenletContext.current?.name }
            return [outside, inside]
        }.get()
        #expect(names == ["caller", "caller"])
    }
}
