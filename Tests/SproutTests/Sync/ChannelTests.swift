import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct ChannelTests {
    @Test func putWaitsForAGetter() async throws {
        let channel = Channel<Int>()
        let putter = spawn { try await channel.put(1) }
        try await sleep(0.01)
        #expect(!putter.isReady)
        #expect(try await channel.get(timeout: 1) == 1)
        try await putter.get()
    }

    @Test func nowaitNeedsAPartnerAlreadyWaiting() async throws {
        let channel = Channel<Int>()
        #expect(throws: QueueError.full) { try channel.putNowait(1) }
        #expect(throws: QueueError.empty) { try channel.getNowait() }
        let getter = spawn { try await channel.get() }
        try await sleep(0.01)
        try channel.putNowait(9)
        #expect(try await getter.get() == 9)
    }

    @Test func timedOutPutterKeepsItsItem() async throws {
        let channel = Channel<Int>()
        await #expect(throws: QueueError.full) { try await channel.put(1, timeout: 0.01) }
        await #expect(throws: QueueError.empty) { try await channel.get(timeout: 0.01) }
        #expect(throws: QueueError.empty) { try channel.getNowait() }
    }

    @Test func iterationEndsWhenClosed() async throws {
        let channel = Channel<Int>()
        let producer = spawn {
            for i in 0..<10 { try await channel.put(i) }
            channel.close()
        }
        var got: [Int] = []
        for try await i in channel { got.append(i) }
        try await producer.get()
        #expect(got == Array(0..<10))
        await #expect(throws: QueueError.closed) { try await channel.put(1) }
    }
}
