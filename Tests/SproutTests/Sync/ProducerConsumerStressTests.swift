import Testing
@testable import Sprout

/// Many producers and consumers through one bounded queue or one channel: every item
/// arrives exactly once, and with one consumer each producer's items arrive in the order
/// it put them. (With several consumers, the order in which they resume is not the order
/// items were handed over, so only exactly-once is checked.)
@Suite(.heavy)
@Hub
struct ProducerConsumerStressTests {
    @Hub final class Tally {
        var seen: [Int] = []
        var lastFromProducer: [Int: Int] = [:]
        var outOfOrder = 0
        nonisolated init() {}

        func record(_ item: Int, producers: Int) {
            seen.append(item)
            let producer = item % producers
            if let last = lastFromProducer[producer], last > item { outOfOrder += 1 }
            lastFromProducer[producer] = item
        }
    }

    @Test(arguments: [false, true], [1, 8])
    func everyItemArrivesOnceAndInProducerOrder(throughChannel: Bool, consumers: Int) async throws {
        let producers = 8
        let perProducer = 5_000 * testScale
        let queue = JoinableQueue<Int>(maxSize: 16)
        let channel = Channel<Int>()
        let tally = Tally()
        let putters = (0..<producers).map { producer in
            spawn {
                for index in 0..<perProducer {
                    let item = index * producers + producer
                    if throughChannel { try await channel.put(item) } else { try await queue.put(item) }
                    if index % 97 == 0 { try await sleep(0) }
                }
            }
        }
        let takers = (0..<consumers).map { _ in
            spawn {
                if throughChannel {
                    for try await item in channel { tally.record(item, producers: producers) }
                } else {
                    for try await item in queue {
                        tally.record(item, producers: producers)
                        try queue.taskDone()
                    }
                }
            }
        }
        try await joinAll(putters, timeout: 30, raiseError: true)
        if !throughChannel { #expect(try await queue.join(timeout: 30)) }
        queue.close()
        channel.close()
        try await joinAll(takers, timeout: 30, raiseError: true)
        let total = producers * perProducer
        #expect(tally.seen.count == total)
        #expect(Set(tally.seen).count == total)
        if consumers == 1 { #expect(tally.outOfOrder == 0) }
    }
}
