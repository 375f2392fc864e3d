import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct PriorityQueueTests {
    @Test func smallestComesOutFirst() async throws {
        let queue = PriorityQueue<Int>()
        var generator = SplitMix64(seed: 7)
        let items = (0..<200).map { _ in Int.random(in: 0..<1000, using: &generator) }
        for item in items { try await queue.put(item) }
        var got: [Int] = []
        while let item = try? queue.getNowait() { got.append(item) }
        #expect(got == items.sorted())
    }

    @Test func aParkedGetterTakesTheFirstItemPut() async throws {
        let queue = PriorityQueue<Int>()
        let getter = spawn { try await queue.get(timeout: 1) }
        try await sleep(0.01)
        try await queue.put(5)
        try await queue.put(1)
        #expect(try await getter.get() == 5)
        #expect(try queue.getNowait() == 1)
    }
}
