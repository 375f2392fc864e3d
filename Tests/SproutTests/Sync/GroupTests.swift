import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct GroupTests {
    @Test func finishedGreenletsLeaveAndJoinWaitsForAll() async throws {
        let group = Group()
        for i in 0..<5 { group.spawn { try await sleep(0.001 * Double(i)) } }
        #expect(group.count == 5)
        #expect(try await group.join(timeout: 5))
        #expect(group.count == 0)
    }

    @Test func joinCoversGreenletsAddedMeanwhile() async throws {
        let group = Group()
        let late = Event()
        group.spawn {
            try await sleep(0.005)
            group.spawn { try await sleep(0.005); late.set() }
        }
        #expect(try await group.join(timeout: 5))
        #expect(late.isSet)
    }

    @Test func joinRaisesTheFirstErrorWhenAsked() async throws {
        struct Boom: Error {}
        let group = Group()
        group.spawn { throw Boom() }
        let sleeper = group.spawn { try await sleep(10) }
        await #expect(throws: Boom.self) { try await group.join(raiseError: true) }
        #expect(try await group.kill(timeout: 1))
        #expect(sleeper.error is GreenletExit)
    }

    @Test func addAndKill() async throws {
        let group = Group()
        let outsider = spawn { try await sleep(10) }
        group.add(outsider)
        #expect(group.contains(outsider))
        #expect(try await group.kill(timeout: 1))
        #expect(outsider.error is GreenletExit)
        #expect(group.count == 0)
    }
}
