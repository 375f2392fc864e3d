import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct AsyncResultTests {
    struct Boom: Error, Equatable {}

    @Test func getReturnsTheValueToEveryWaiter() async throws {
        let result = AsyncResult<Int>()
        let readers = (0..<3).map { _ in spawn { try await result.get(timeout: 1) } }
        try await sleep(0.01)
        try result.set(42)
        for reader in readers { #expect(try await reader.get() == 42) }
        #expect(result.isSuccessful)
        #expect(throws: AsyncResultError.alreadySet) { try result.set(1) }
    }

    @Test func failIsThrownAndTimeoutThrowsTimeout() async throws {
        let result = AsyncResult<Int>()
        await #expect(throws: Timeout.self) { try await result.get(timeout: 0.01) }
        try result.fail(Boom())
        await #expect(throws: Boom()) { try await result.get() }
        #expect(result.error is Boom)
    }

    @Test func joinAllAndIwaitTakeItNextToGreenlets() async throws {
        let result = AsyncResult<String>()
        let greenlet = spawn { try await sleep(0.02); return 1 }
        OSThread.detach { try? result.set("from a thread") }
        let finished = try await joinAll([result, greenlet] as [any Joinable], timeout: 5)
        #expect(finished.count == 2)
        #expect(finished.first === result)
        #expect(result.value == "from a thread")
    }
}
