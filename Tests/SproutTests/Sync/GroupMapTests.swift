import Testing
@testable import Sprout
import SproutTestSupport

struct MapFailure: Error, Equatable {}

@Suite(.heavy)
struct GroupMapTests {
    @Test func mapRunsAllAtOnceAndKeepsInputOrder() async throws {
        let (results, elapsed) = try await onHub { () async throws -> ([Int], UInt64) in
            let group = Group()
            let start = monotonicNanoseconds()
            let results = try await group.map([5, 1, 3]) { n in
                try await sleep(Double(n) * 0.02)
                return n * 10
            }
            #expect(group.count == 0, "finished calls leave the group")
            return (results, monotonicNanoseconds() - start)
        }
        #expect(results == [50, 10, 30])
        #expect(elapsed < 300_000_000, "the calls ran side by side, not one after another")
    }

    @Test func aFailureKillsTheRestAndIsThrown() async throws {
        try await onHub { () async throws in
            let group = Group()
            let slowOnesDone = Counter()
            await #expect(throws: MapFailure()) {
                _ = try await group.map(0..<5) { n -> Int in
                    if n == 3 { throw MapFailure() }
                    try await sleep(3600)
                    slowOnesDone.value += 1
                    return n
                }
            }
            #expect(try await group.join(timeout: 5))
            #expect(slowOnesDone.value == 0)
        }
    }
}

@Hub
private final class Counter: Sendable {
    var value = 0
    nonisolated init() {}
}
