import Testing
@testable import Sprout
import SproutTestJobs

@Suite("ProcessPipe and ProcessQueue", .heavy)
struct ProcessPipeTests {
    @Test func aPipeEndTravelsToAWorker() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 1) { (pool: ProcessPool) async throws in
                let (mine, theirs) = try ProcessPipe<Int>.pair()
                let job = try pool.submit(PipeDoubler(pipe: theirs, count: 50))
                for value in 0..<50 {
                    try await mine.send(value)
                    #expect(try await mine.receive(timeout: 10) == value * 2)
                }
                #expect(try await job.get(timeout: 10) == 50)
                #expect(try await mine.receive(timeout: 0.05) == nil, "nothing more arrives")
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aQueueIsSharedByManyProcesses() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 3) { (pool: ProcessPool) async throws in
                let queue = try ProcessQueue<Int>()
                let producers = try (0..<3).map { try pool.submit(QueueProducer(queue: queue, from: $0 * 100, count: 100)) }
                var seen: [Int] = []
                for _ in 0..<300 { seen.append(try await queue.get(timeout: 10)) }
                #expect(seen.sorted() == Array(0..<300))
                for producer in producers { #expect(try await producer.get(timeout: 10) == 100) }

                let summers = try (0..<2).map { _ in try pool.submit(QueueSummer(queue: queue, count: 50)) }
                for value in 1...100 { try await queue.put(value) }
                var total = 0
                for summer in summers { total += try await summer.get(timeout: 10) }
                #expect(total == 5050, "each value is taken exactly once")
                await #expect(throws: QueueError.empty) { try await queue.get(timeout: 0.05) }
                #expect(queue.isEmpty && queue.count == 0)
            }
        }
        #expect(left.isEmpty)
    }
}
