import Testing
@testable import Sprout

@Suite(.heavy)
struct IWaitTests {
    @Test func yieldsInOrderOfCompletion() async throws {
        let greenlets = [0.06, 0.01, 0.03].map { seconds in spawn { try await sleep(seconds); return seconds } }
        var order: [Double] = []
        for try await done in iwait(greenlets) {
            order.append((done as! Greenlet<Double>).value!)
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
}
