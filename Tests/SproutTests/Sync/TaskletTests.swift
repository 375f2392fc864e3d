import Testing
@testable import Sprout

@Suite(.heavy)
@Hub
struct TaskletTests {
    /// Collects what the tasklets print.
    @Hub final class Output {
        var lines: [Int] = []
        nonisolated init() {}
    }

    @Test func theSeedsGreenletExamplePrints12563478() async throws {
        let output = Output()
        let gr1 = Tasklet(), gr2 = Tasklet()
        gr1.run = { _ in
            output.lines.append(12)
            try await gr2.switch()
            output.lines.append(34)
            try await gr2.switch()
            return nil
        }
        gr2.run = { _ in
            output.lines.append(56)
            try await gr1.switch()
            output.lines.append(78)
            return nil
        }
        try await gr1.switch()
        #expect(output.lines == [12, 56, 34, 78])
        #expect(gr2.isFinished)
        #expect(!gr1.isFinished)
        gr1.kill()
    }

    /// Tasklets whose code refers to each other, as in the seeds' example, are freed once
    /// they have ended: a started tasklet drops its `run`, which held the other one.
    @Test func taskletsThatReferToEachOtherAreFreedOnceEnded() async throws {
        weak var first: Tasklet?
        weak var second: Tasklet?
        do {
            let gr1 = Tasklet(), gr2 = Tasklet()
            gr1.run = { _ in try await gr2.switch() }
            gr2.run = { _ in try await gr1.switch() }
            // gr1 starts gr2, gr2 switches back, gr1 ends and hands its result out here.
            try await gr1.switch()
            #expect(gr1.isFinished && !gr2.isFinished)
            gr2.kill()
            first = gr1
            second = gr2
        }
        let deadline = monotonicNanoseconds() + slack(nanoseconds: 2_000_000_000)
        while first != nil || second != nil, monotonicNanoseconds() < deadline {
            try await sleep(0.01)
        }
        #expect(first == nil, "the finished tasklet is still alive")
        #expect(second == nil, "the killed tasklet is still alive")
    }

    @Test func valuesTravelWithTheSwitch() async throws {
        let consumer = Tasklet { first in
            var total = first as! Int
            while total < 10 {
                // Hand control back to the parent, which sends the next number.
                total += try await Tasklet.current!.parent!.switch(total) as! Int
            }
            return total
        }
        // The consumer doubles its total with each number sent back: 1, 2, 4, 8, then 16
        // ends it, and its return value is what the parent's last switch gets.
        var sent = try await consumer.switch(1) as? Int
        #expect(sent == 1)
        var replies: [Int?] = []
        while !consumer.isFinished, replies.count < 10 {
            let reply = try await consumer.switch(sent) as? Int
            replies.append(reply)
            sent = reply
        }
        #expect(replies == [2, 4, 8, 16])
        #expect(consumer.isFinished)
    }

    /// A greenlet spawned by a tasklet's code is not that tasklet (greenlet's `getcurrent()`
    /// in it is the new greenlet): ``Tasklet/current`` is `nil` there, and a tasklet made
    /// there has no parent.
    @Test func aGreenletSpawnedInsideATaskletIsOutsideIt() async throws {
        let tasklet = Tasklet { _ in
            let inner = spawn { () -> Bool in Tasklet.current == nil && Tasklet().parent == nil }
            return try await inner.get()
        }
        let outside = try await tasklet.switch() as? Bool
        #expect(outside == true)
    }

    @Test func misuseThrowsTypedErrors() async throws {
        let empty = Tasklet()
        await #expect(throws: TaskletError.noBody) { try await empty.switch() }
        let done = Tasklet { _ in 1 }
        #expect(try await done.switch() as? Int == 1)
        await #expect(throws: TaskletError.finished) { try await done.switch() }
    }
}
