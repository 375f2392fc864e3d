import Testing
@testable import Sprout
import SproutTestJobs
import SproutTestSupport

@Suite("ProcessQueue", .heavy)
struct ProcessQueueTests {
    @Test func emptyCountAndGetNowaitBehaveAsTheGreenletQueues() async throws {
        try await onHub { () async throws in
            let queue = try ProcessQueue<String>()
            #expect(queue.isEmpty && queue.count == 0)
            #expect(throws: QueueError.empty) { try queue.getNowait() }
            let start = monotonicNanoseconds()
            await #expect(throws: QueueError.empty) { try await queue.get(timeout: 0.05) }
            #expect(monotonicNanoseconds() - start >= 50_000_000)

            try await queue.put("a")
            try await queue.put("b")
            #expect(!queue.isEmpty && queue.count == 2)
            #expect(try queue.getNowait() == "a")
            #expect(try await queue.get(timeout: 1) == "b")
            #expect(queue.isEmpty && queue.count == 0)
        }
    }

    @Test func countIncludesWhatWorkersPut() async throws {
        let left = try await onHub {
            try await withTestPool { (pool: ProcessPool) async throws in
                let queue = try ProcessQueue<Int>()
                #expect(try await pool.run(QueueProducer(queue: queue, from: 0, count: 40)) == 40)
                #expect(queue.count == 40 && !queue.isEmpty)
                var total = 0
                while let value = try? queue.getNowait() { total += value }
                #expect(total == (0..<40).reduce(0, +))
                #expect(queue.count == 0 && queue.isEmpty)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func closeRefusesLaterCallsOnThisCopy() async throws {
        try await onHub { () async throws in
            let queue = try ProcessQueue<Int>()
            try await queue.put(1)
            queue.close()
            await #expect(throws: QueueError.closed) { try await queue.put(2) }
            await #expect(throws: QueueError.closed) { try await queue.get(timeout: 1) }
            #expect(throws: QueueError.closed) { try queue.getNowait() }
        }
    }
}
