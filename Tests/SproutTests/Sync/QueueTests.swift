import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct QueueTests {
    @Test func itemsComeOutInOrderAcrossGreenlets() async throws {
        let queue = Queue<Int>()
        let producer = spawn { for i in 0..<100 { try await queue.put(i) } }
        var got: [Int] = []
        for _ in 0..<100 { got.append(try await queue.get(timeout: 1)) }
        try await producer.get()
        #expect(got == Array(0..<100))
    }

    @Test func boundedPutParksUntilRoomAndTimesOutWithFull() async throws {
        let queue = Queue<Int>(maxSize: 2)
        try await queue.put(1)
        try await queue.put(2)
        #expect(queue.isFull)
        await #expect(throws: QueueError.full) { try await queue.put(3, timeout: 0.01) }
        #expect(throws: QueueError.full) { try queue.putNowait(3) }
        let putter = spawn { try await queue.put(3, timeout: 1) }
        try await sleep(0.01)
        #expect(!putter.isReady)
        #expect(try await queue.get() == 1)
        try await putter.get()
        #expect(queue.count == 2)
        #expect(try queue.getNowait() == 2)
        #expect(try queue.getNowait() == 3)
    }

    @Test func getTimesOutWithEmptyAndNowaitThrowsEmpty() async throws {
        let queue = Queue<String>()
        await #expect(throws: QueueError.empty) { try await queue.get(timeout: 0.01) }
        #expect(throws: QueueError.empty) { try queue.getNowait() }
        #expect(queue.peek == nil)
    }

    @Test func gettersAreServedFirstComeFirstServed() async throws {
        let queue = Queue<Int>()
        var served: [Int] = []
        let getters = (0..<5).map { index in
            spawn {
                let item = try await queue.get()
                served.append(index * 100 + item)
            }
        }
        try await sleep(0.01)
        for i in 0..<5 { try await queue.put(i) }
        try await joinAll(getters, raiseError: true)
        #expect(served == [0, 101, 202, 303, 404])
    }

    @Test func closeWakesGettersAndPuttersAndEndsIteration() async throws {
        let queue = Queue<Int>(maxSize: 1)
        try await queue.put(7)
        let blockedPutter = spawn { try await queue.put(8) }
        try await sleep(0.01)
        queue.close()
        await #expect(throws: QueueError.closed) { try await blockedPutter.get() }
        await #expect(throws: QueueError.closed) { try await queue.put(9) }
        var items: [Int] = []
        for try await item in queue { items.append(item) }
        #expect(items == [7])
        await #expect(throws: QueueError.closed) { try await queue.get() }
        #expect(throws: QueueError.closed) { try queue.getNowait() }

        let empty = Queue<Int>()
        let getter = spawn { try await empty.get() }
        try await sleep(0.01)
        empty.close()
        await #expect(throws: QueueError.closed) { try await getter.get() }
    }

    @Test func joinWaitsForTaskDone() async throws {
        let queue = JoinableQueue<Int>()
        for i in 0..<3 { try await queue.put(i) }
        #expect(queue.unfinishedTasks == 3)
        let worker = spawn {
            for _ in 0..<3 {
                _ = try await queue.get()
                try await sleep(0.001)
                try queue.taskDone()
            }
        }
        #expect(try await queue.join(timeout: 5))
        try await worker.get()
        #expect(throws: QueueError.taskDoneTooOften) { try queue.taskDone() }
        try await queue.put(1)
        #expect(try await queue.join(timeout: 0.01) == false)
    }

    @Test func putFromAnotherThreadArrivesInOrderEvenWhenFull() async throws {
        let queue = Queue<Int>(maxSize: 1)
        OSThread.detach { for i in 0..<50 { queue.putFromAnyThread(i) } }
        var got: [Int] = []
        for _ in 0..<50 { got.append(try await queue.get(timeout: 5)) }
        #expect(got == Array(0..<50))
    }

    @Test func timedOutPutterKeepsItsItemAndTheQueueStaysFair() async throws {
        let queue = Queue<Int>(maxSize: 1)
        try await queue.put(0)
        let late = spawn { try await queue.put(1, timeout: 0.01) }
        let patient = spawn { try await queue.put(2) }
        await #expect(throws: QueueError.full) { try await late.get() }
        #expect(try await queue.get() == 0)
        #expect(try await queue.get(timeout: 1) == 2)
        try await patient.get()
        #expect(queue.isEmpty)
    }

    /// `put` and `get` run in the caller's isolation and take the fast path only on the hub;
    /// from a task elsewhere they hop to the hub and still park and wake correctly.
    @Test nonisolated func putAndGetFromATaskOffTheHub() async throws {
        #expect(!Hub.isCurrent)
        let queue = Queue<Int>(maxSize: 1)
        try await queue.put(1)
        let putter = spawn { try await queue.put(2) }
        #expect(try await queue.get(timeout: 1) == 1)
        #expect(try await queue.get(timeout: 1) == 2)
        try await putter.get()
        await #expect(throws: QueueError.empty) { try await queue.get(timeout: 0.01) }
        try await queue.put(3, timeout: 0)
        #expect(try await queue.get(timeout: 0) == 3)
    }

    /// A put takes the typed buffer only when no getter is parked: with one parked, the item
    /// is handed over (the queue stays empty) even though the queue has room.
    @Test func aPutWithAGetterParkedHandsTheItemOverRatherThanBufferingIt() async throws {
        let queue = Queue<String>()
        let getter = spawn { try await queue.get(timeout: 1) }
        try await sleep(0.01)
        try await queue.put("handed")
        #expect(queue.count == 0)
        #expect(try await getter.get() == "handed")
    }

    /// Items of a reference type come out as the same objects, in order, through the
    /// typed buffer and through hand-offs to a parked getter alike.
    /// After a burst of a million items put before any is taken, a drained queue holds two
    /// blocks of storage again (the one in use and a spare), not its largest size.
    @Test func aDrainedQueueGivesTheStorageOfABurstBack() async throws {
        let queue = Queue<Int>()
        let burst = 1_000_000
        for item in 0..<burst {
            try await queue.put(item)
            // Lets the hub's other work run now and then, as a long producer would.
            if item % 50_000 == 0 { try await sleep(0) }
        }
        #expect(queue.items.store.fifo.blocksHeld >= burst / ItemBlocks<Int>.capacity)
        var inOrder = true
        for expected in 0..<burst {
            if try await queue.get() != expected { inOrder = false }
            if expected % 50_000 == 0 { try await sleep(0) }
        }
        #expect(inOrder)
        #expect(queue.isEmpty)
        #expect(queue.items.store.fifo.blocksHeld <= 2)
    }

    @Test func referenceItemsComeOutIdenticalThroughBufferAndHandOff() async throws {
        final class Box: Sendable {}
        let queue = Queue<Box>(maxSize: 2)
        let boxes = (0..<4).map { _ in Box() }
        try await queue.put(boxes[0])
        try await queue.put(boxes[1])
        let putter = spawn { try await queue.put(boxes[2]) }  // parks: the queue is full
        try await sleep(0.01)
        #expect(try await queue.get() === boxes[0])
        try await putter.get()
        #expect(try await queue.get() === boxes[1])
        #expect(try await queue.get() === boxes[2])
        let getter = spawn { try await queue.get(timeout: 1) }
        try await sleep(0.01)
        try await queue.put(boxes[3])
        #expect(try await getter.get() === boxes[3])
    }
}
