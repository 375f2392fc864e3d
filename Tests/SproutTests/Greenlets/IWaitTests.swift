import Testing
@testable import Sprout

@Suite(.heavy)
struct IWaitTests {
    @Test func yieldsInOrderOfCompletion() async throws {
        let greenlets = [0.06, 0.01, 0.03].map { seconds in spawn { try await sleep(seconds); return seconds } }
        var order: [Double] = []
        for try await done in iwait(greenlets) {
            order.append(try await done.get())
        }
        #expect(order == [0.01, 0.03, 0.06])
    }

    @Test func endsAtTheTimeoutAndAfterCount() async throws {
        let greenlets = [0.01, 3600].map { seconds in spawn { try await sleep(seconds) } }
        var seen = 0
        for try await _ in iwait(greenlets, timeout: 1) { seen += 1 }
        #expect(seen == 1)
        seen = 0
        for try await _ in iwait(greenlets, count: 1) { seen += 1 }
        #expect(seen == 1)
        greenlets[1].cancel()
    }

    @Test func aMixStillComesBackAsJoinables() async throws {
        let number = spawn { try await sleep(0.02); return 1 }
        let text = spawn { "done" }
        var order: [ObjectIdentifier] = []
        for try await done in iwait([number, text] as [any Joinable]) { order.append(ObjectIdentifier(done)) }
        #expect(order == [ObjectIdentifier(text), ObjectIdentifier(number)])
    }

    @Test func asCompletedYieldsTypedHandlesAndThrowsWhenTimeRunsOut() async throws {
        let quick = [0.03, 0.01].map { seconds in spawn { try await sleep(seconds); return seconds } }
        var values: [Double] = []
        for try await done in asCompleted(quick, timeout: 5) { values.append(try await done.get()) }
        #expect(values == [0.01, 0.03])

        let mixed = [0.01, 3600].map { seconds in spawn { try await sleep(seconds); return seconds } }
        var seen: [Double] = []
        await #expect(throws: Timeout.self) {
            for try await done in asCompleted(mixed, timeout: 0.1) { seen.append(try await done.get()) }
        }
        #expect(seen == [0.01], "the one that finished came first, then the timeout")
        try await mixed[1].kill()
    }
}
