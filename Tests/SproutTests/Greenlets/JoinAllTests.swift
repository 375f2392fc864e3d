import Testing
@testable import Sprout

struct Boom: Error, Equatable {
    let id: Int
}

@Suite(.heavy)
struct JoinAllTests {
    @Test func waitsForAll() async throws {
        let greenlets = [0.03, 0.01, 0.02].map { seconds in spawn { try await sleep(seconds); return seconds } }
        let finished = try await joinAll(greenlets)
        #expect(finished.count == 3)
        #expect(greenlets.allSatisfy { $0.isReady })
    }

    @Test func raiseErrorThrowsTheFirstFailureInCompletionOrder() async throws {
        let slowFailure = spawn { () async throws -> Int in try await sleep(3); throw Boom(id: 1) }
        let fastFailure = spawn { () async throws -> Int in try await sleep(0.01); throw Boom(id: 2) }
        let fine = spawn { () async throws -> Int in 3 }
        let start = monotonicNanoseconds()
        await #expect(throws: Boom(id: 2)) {
            try await joinAll([slowFailure, fastFailure, fine], raiseError: true)
        }
        #expect(monotonicNanoseconds() - start < slack(nanoseconds: 2_000_000_000), "raised only after the slow one finished")
        try await slowFailure.join()
        #expect(slowFailure.error as? Boom == Boom(id: 1))
    }

    @Test func aKilledGreenletIsNotRaised() async throws {
        let victim = spawn { try await sleep(3600) }
        victim.cancel()
        let finished = try await joinAll([victim], raiseError: true)
        #expect(finished.count == 1)
    }

    @Test func countReturnsOnceThatManyFinished() async throws {
        let greenlets = [0.01, 3600, 0.02].map { seconds in spawn { try await sleep(seconds); return seconds } }
        let finished = try await joinAll(greenlets, count: 2)
        #expect(finished.count == 2)
        #expect(finished.allSatisfy { $0.isReady })
        #expect(!greenlets[1].isReady)
        greenlets[1].cancel()
    }

    @Test func timeoutReturnsWhatFinishedInTime() async throws {
        let quick = spawn { 1 }
        let slow = spawn { try await sleep(3600) }
        let start = monotonicNanoseconds()
        let finished = try await joinAll([quick, slow] as [any Joinable], timeout: 0.05)
        let elapsed = monotonicNanoseconds() - start
        #expect(finished.count == 1 && finished[0] === quick)
        #expect(elapsed >= 50_000_000 && elapsed < slack(nanoseconds: 1_000_000_000))
        try await slow.kill()
    }
}
