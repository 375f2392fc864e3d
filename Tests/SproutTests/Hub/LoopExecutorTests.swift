import Testing
@testable import Sprout

@Hub private var ticks = 0

/// Reads `ticks`, then calls into the hub again: no other greenlet may run in between.
@Hub private func ticksAcrossAHubCall() async -> (before: Int, after: Int) {
    let before = ticks
    return (before, await readTicks())
}

@Hub private func readTicks() async -> Int { ticks }

@Hub
private final class PieceCounter {
    var pieces = 0
}

@Suite(.heavy)
struct LoopExecutorTests {
    /// The hub thread waits idle for its first work, which starts an offload in that same
    /// turn: the hub must sleep through the offload. It spun instead (131-194 ms of its CPU
    /// during a 0.5 s offload), and took the offload's answer from the inbox before the
    /// offloading thread had sent its wake-up — sent later to the closed loop, that aborted
    /// the program at exit (LoopExitTests' "offload" helper, once in a full run).
    @Test func anOffloadStartedInTheHubsFirstTurnLetsTheHubSleep() async throws {
        let run = try await runHelper(["offload-in-first-turn"])
        #expect(run.status == .exited(0), "stderr: \(run.stderr)")
        let prefix = "hub thread CPU during the offload: "
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }, "stdout: \(run.stdout)")
        let milliseconds = try #require(Int(line.dropFirst(prefix.count).prefix { $0 != " " }), "\(line)")
        // A sleeping hub uses about none; a spinning one most of a core, even shared.
        #expect(milliseconds < 50, "\(line)")
    }

    @Test func aGreenletThatComputesAndYieldsDoesNotHoldBackDueTimers() async throws {
        // 12 pieces of 3 ms with sleep(0) between: fewer than the drain's job budget, so
        // only its time limit lets the loop run the sleeper's timer before they are done.
        let piecesBeforeWake = try await spawn { () async throws -> Int in
            let counter = PieceCounter()
            let sleeper = spawn { () async throws -> Int in
                try await sleep(0.001)
                return counter.pieces
            }
            let worker = spawn {
                for _ in 0..<12 {
                    let start = monotonicNanoseconds()
                    while monotonicNanoseconds() - start < 3_000_000 {}
                    counter.pieces += 1
                    try await sleep(0)
                }
            }
            let seen = try await sleeper.get()
            try await worker.get()
            return seen
        }.get()
        #expect(piecesBeforeWake < 8, "the 1 ms timer fired only after \(piecesBeforeWake) of 12 pieces")
    }

    @Test func aTaskThatIsNotAGreenletStaysOnTheHubAcrossHubCalls() async throws {
        // A task with no executor preference must run on the hub as a plain actor job;
        // run as if it preferred the hub, each @Hub call would queue it again and let
        // others run between a check and a wait.
        let ticker = spawn {
            while true {
                ticks += 1
                try await sleep(0)
            }
        }
        try await sleep(0.01)
        for _ in 0..<100 {
            let (before, after) = await ticksAcrossAHubCall()
            #expect(before == after)
        }
        try await ticker.kill()
    }

    @Test func workFromOtherThreadsRunsInOrder() async throws {
        let transcript = Transcript()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<1000 { Hub.later { transcript.add("\(index)") } }
            }
        }
        try await sleep(0.05)
        #expect(await transcript.lines == (0..<1000).map { "\($0)" })
    }
}
