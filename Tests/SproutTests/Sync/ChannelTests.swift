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

    @Test func abandonedPuttersLeaveNoItemInTransit() async throws {
        let channel = Channel<Int>()
        // Given up before anyone takes them: a get passes over their entries.
        let early = (0..<3).map { i in spawn { try await channel.put(i, timeout: 0.01) } }
        for putter in early { await #expect(throws: QueueError.full) { try await putter.get() } }
        let waiting = spawn { try await channel.put(7) }
        try await sleep(0.01)
        #expect(try channel.getNowait() == 7)
        try await waiting.get()
        #expect(channel.queue.items.transit.entries.isEmpty)

        // Given up behind a putter that still waits: the list drops their items as it
        // compacts (every 16 or more given up), and closing drops the rest.
        let behind = Channel<Int>()
        let first = spawn { try await behind.put(100) }
        try await sleep(0.01)
        let late = (0..<40).map { i in spawn { try await behind.put(i, timeout: 0.01) } }
        for putter in late { await #expect(throws: QueueError.full) { try await putter.get() } }
        #expect(behind.queue.items.transit.entries.count <= 16)
        behind.close()
        await #expect(throws: QueueError.closed) { try await first.get() }
        #expect(behind.queue.items.transit.entries.isEmpty)
    }

    @Test func itemsReachTasksThatAreNotGreenlets() async throws {
        // The test's own task is not a greenlet: it waits through the untyped path.
        let channel = Channel<String>()
        let putter = spawn { try await channel.put("to the task") }
        #expect(try await channel.get(timeout: 1) == "to the task")
        try await putter.get()
        // The getter has not run yet: the task's put parks, its item boxed in transit.
        let getter = spawn { try await channel.get() }
        try await channel.put("from the task", timeout: 1)
        #expect(try await getter.get() == "from the task")
        #expect(channel.queue.items.transit.entries.isEmpty)
    }

    @Test func transitGivesBackItemsTakenOutOfOrder() {
        var transit = TransitItems<String>()
        let a = transit.deposit("a"), b = transit.deposit("b"), c = transit.deposit("c")
        #expect(transit.take(b) == "b")
        #expect(transit.take(a) == "a")
        #expect(transit.take(c) == "c")
        #expect(transit.entries.isEmpty)
        #expect(transit.take(transit.deposit("d")) == "d")
    }
}
