import Sprout
import SproutBenchSupport

/// The hub's workloads: spawning, switching, and memory per sleeping greenlet.
let hubWorkloads: [Workload] = [
    Workload(name: "spawn-join", usage: "spawn-join N: µs per greenlet to spawn and joinAll N trivial greenlets") { arguments in
        let count = intArgument(arguments, 0, 100_000)
        let seconds = try Hub.run {
            let start = now()
            var greenlets: [Greenlet<Int>] = []
            greenlets.reserveCapacity(count)
            for index in 0..<count {
                greenlets.append(spawn { index })
            }
            try await joinAll(greenlets)
            let elapsed = now() - start
            // Counted after the clock, as the gevent twin does: a greenlet succeeds only if
            // its body ran (one killed before its turn ends with GreenletExit).
            let ran = greenlets.count { $0.isSuccessful }
            guard ran == count else {
                throw IncompleteRun(description: "spawn-join: \(ran) of \(count) greenlets ran their body")
            }
            return elapsed
        }
        report(seconds / Double(count) * 1e6)
    },
    Workload(name: "ping-pong", usage: "ping-pong N: switches/s of two greenlets doing sleep(0) N times each") { arguments in
        let rounds = intArgument(arguments, 0, 1_000_000)
        let seconds = try Hub.run {
            let start = now()
            let players = (0..<2).map { _ in
                spawn {
                    for _ in 0..<rounds { try await sleep(0) }
                }
            }
            try await joinAll(players)
            return now() - start
        }
        report(Double(2 * rounds) / seconds)
    },
    Workload(name: "sleepers", usage: "sleepers N: RSS bytes per greenlet once N greenlets have all started and sleep") { arguments in
        let count = intArgument(arguments, 0, 100_000)
        let bytes = try Hub.run {
            let before = residentBytes()
            let greenlets = try await spawnSleepers(count)
            let after = residentBytes()
            for greenlet in greenlets { greenlet.cancel() }
            try await joinAll(greenlets)
            return (after - before) / Double(count)
        }
        report(bytes)
    },
    Workload(name: "parked-tasks", usage: "parked-tasks N: RSS bytes per bare Swift Task once N of them are parked on a continuation (the floor under a sleeping greenlet)") { arguments in
        let count = intArgument(arguments, 0, 100_000)
        let bytes = try Hub.run {
            let parked = ParkedTasks()
            parked.continuations.reserveCapacity(count)
            let before = residentBytes()
            for _ in 0..<count {
                Task { @Hub in
                    await withUnsafeContinuation { parked.continuations.append($0) }
                    parked.finished += 1
                }
            }
            while parked.continuations.count < count { try await sleep(0.01) }
            let after = residentBytes()
            for continuation in parked.continuations { continuation.resume() }
            // Every task ended before the hub shuts down.
            while parked.finished < count { try await sleep(0.01) }
            return (after - before) / Double(count)
        }
        report(bytes)
    },
    Workload(name: "live-greenlets", usage: "live-greenlets N: total RSS in MB once N greenlets have all started and sleep") { arguments in
        let count = intArgument(arguments, 0, 1_000_000)
        let megabytes = try Hub.run {
            let greenlets = try await spawnSleepers(count)
            let total = residentBytes() / 1_048_576
            for greenlet in greenlets { greenlet.cancel() }
            try await joinAll(greenlets)
            return total
        }
        report(megabytes)
    },
]

/// Spawns `count` greenlets that each sleep an hour, and returns once every one of them has
/// run up to its sleep: the state whose memory the sleepers workloads read. A fixed pause
/// instead would read it while most greenlets have not started yet (the gevent twin,
/// `spawn_sleepers` in bench/compare/peers/gevent_hub.py, needs seconds to start 100k).
@Hub func spawnSleepers(_ count: Int) async throws -> [Greenlet<Void>] {
    var asleep = 0
    var greenlets: [Greenlet<Void>] = []
    greenlets.reserveCapacity(count)
    for _ in 0..<count {
        greenlets.append(spawn {
            asleep += 1  // the sleep below parks before any other greenlet runs
            try await sleep(3600)
        })
    }
    while asleep < count { try await sleep(0.01) }
    return greenlets
}

/// The parked-tasks workload's tasks: each parks here, then counts itself finished.
@Hub private final class ParkedTasks {
    var continuations: [UnsafeContinuation<Void, Never>] = []
    var finished = 0
}

/// A run whose greenlets did not all do their work: its figure would measure something else.
private struct IncompleteRun: Error, CustomStringConvertible {
    let description: String
}
