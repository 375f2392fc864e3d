import Testing
@testable import Sprout

@Hub
private final class PieceCounter {
    var pieces = 0
}

@Suite(.timeLimit(.minutes(1)))
struct LoopExecutorTests {
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
}
