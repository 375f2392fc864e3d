import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct LifoQueueTests {
    @Test func lastPutComesOutFirst() async throws {
        let queue = LifoQueue<Int>(maxSize: 3)
        for i in 1...3 { try await queue.put(i) }
        #expect(queue.peek == 3)
        var got: [Int] = []
        for _ in 1...3 { got.append(try await queue.get()) }
        #expect(got == [3, 2, 1])
    }
}
