import Sprout
import SproutBenchSupport

/// The Sync primitives' workloads: queue and channel throughput between two greenlets, and
/// a pool mapping a trivial function. Each has a twin in bench/compare/peers/gevent_sync.py.
let syncWorkloads: [Workload] = [
    Workload(name: "queue-put-get", usage: "queue-put-get N [MAXSIZE]: items/s through a Queue from a producer to a consumer greenlet") { arguments in
        let count = intArgument(arguments, 0, 1_000_000)
        let maxSize = arguments.count > 1 ? Int(arguments[1]) : nil
        let seconds = try Hub.run {
            let queue = Queue<Int>(maxSize: maxSize)
            let start = now()
            let producer = spawn { for item in 0..<count { try await queue.put(item) } }
            let consumer = spawn { for _ in 0..<count { _ = try await queue.get() } }
            try await joinAll([producer, consumer], raiseError: true)
            return now() - start
        }
        report(Double(count) / seconds)
    },
    Workload(name: "channel-handoff", usage: "channel-handoff N: items/s handed over a Channel from a producer to a consumer greenlet") { arguments in
        let count = intArgument(arguments, 0, 1_000_000)
        let seconds = try Hub.run {
            let channel = Channel<Int>()
            let start = now()
            let producer = spawn { for item in 0..<count { try await channel.put(item) } }
            let consumer = spawn { for _ in 0..<count { _ = try await channel.get() } }
            try await joinAll([producer, consumer], raiseError: true)
            return now() - start
        }
        report(Double(count) / seconds)
    },
    Workload(name: "pool-map", usage: "pool-map N: items/s of Pool(size: 100).map over N trivial items") { arguments in
        let count = intArgument(arguments, 0, 100_000)
        let seconds = try Hub.run {
            let pool = Pool(size: 100)
            let start = now()
            let results = try await pool.map(0..<count) { $0 }
            precondition(results.count == count)
            return now() - start
        }
        report(Double(count) / seconds)
    },
]
