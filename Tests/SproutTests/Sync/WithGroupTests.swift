import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct WithGroupTests {
    @Test func whatIsLeftIsKilledAtScopeEnd() async throws {
        var sleepers: [Greenlet<Void>] = []
        let first = try await withGroup { group in
            let results = Queue<Int>()
            for delay in [0.001, 5, 10] {
                sleepers.append(group.spawn {
                    try await sleep(delay)
                    try await results.put(Int(delay))
                })
            }
            return try await results.get(timeout: 2)
        }
        #expect(first == 0)
        #expect(sleepers.allSatisfy { $0.isReady })
        #expect(sleepers[1].error is GreenletExit)
    }

    @Test func anErrorStillKillsTheGroup() async throws {
        struct Boom: Error {}
        var sleeper: Greenlet<Void>?
        await #expect(throws: Boom.self) {
            try await withGroup { group in
                sleeper = group.spawn { try await sleep(10) }
                throw Boom()
            }
        }
        #expect(sleeper?.error is GreenletExit)
    }
}
