import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct EventTests {
    @Test func waitReturnsOnceSetAndWakesEveryWaiterInOrder() async throws {
        let event = Event()
        var order: [Int] = []
        let waiters = (0..<3).map { index in
            spawn {
                try await event.wait()
                order.append(index)
            }
        }
        try await sleep(0.01)
        #expect(order.isEmpty)
        event.set()
        try await joinAll(waiters, raiseError: true)
        #expect(order == [0, 1, 2])
        #expect(try await event.wait(timeout: 0.001))
    }

    @Test func waitTimesOutWithFalseAndClearRearms() async throws {
        let event = Event()
        #expect(try await event.wait(timeout: 0.01) == false)
        event.set()
        #expect(event.isSet)
        event.clear()
        #expect(try await event.wait(timeout: 0.01) == false)
    }

    @Test func killedWaiterThrowsAndOthersStillWake() async throws {
        let event = Event()
        let doomed = spawn { try await event.wait() }
        let survivor = spawn { try await event.wait() }
        try await sleep(0.01)
        try await doomed.kill(timeout: 1)
        event.set()
        #expect(try await survivor.get(timeout: 1))
        #expect(doomed.error is GreenletExit)
    }

    @Test func setFromAnotherThreadWakesTheWaiter() async throws {
        let event = Event()
        let waiter = spawn { try await event.wait(timeout: 5) }
        OSThread.detach { event.setFromAnyThread() }
        #expect(try await waiter.get(timeout: 5))
    }
}
