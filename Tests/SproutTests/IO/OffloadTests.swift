import Synchronization
import Testing
@testable import Sprout

import Glibc

struct OffloadFailure: Error, Equatable {
    let code: Int
}

/// Blocks the calling thread for `seconds`, however often signals (a child's SIGCHLD,
/// delivered to any thread) cut a sleep short.
func blockFor(seconds: Double) {
    let end = monotonicNanoseconds() + nanoseconds(seconds)
    while monotonicNanoseconds() < end { usleep(10_000) }
}

/// Counts a greenlet's ticks; read from a pool thread.
final class TickCounter: Sendable {
    private let ticks = Atomic<Int>(0)
    var count: Int { ticks.load(ordering: .acquiring) }
    func tick() { ticks.add(1, ordering: .releasing) }
}

/// Set by a blocking call on a pool thread, read by the test.
final class DoneMarker: Sendable {
    private let done = Atomic<Bool>(false)
    var isDone: Bool { done.load(ordering: .acquiring) }
    func mark() { done.store(true, ordering: .releasing) }
}

@Suite("offloadBlocking", .heavy)
struct OffloadTests {
    @Test
    func returnsTheResultWhileTheHubRuns() async throws {
        try await onHub {
            let ticks = TickCounter()
            let ticker = spawn {
                while true {
                    try await sleep(0.01)
                    ticks.tick()
                }
            }
            // The call blocks its pool thread until the ticker — a greenlet on the hub —
            // has ticked three times. Run inline on the hub it could never see a tick.
            let sawTicks = try await offloadBlocking { () -> Bool in
                let deadline = monotonicNanoseconds() + nanoseconds(20)
                let start = ticks.count
                while ticks.count < start + 3 && monotonicNanoseconds() < deadline { usleep(1000) }
                return ticks.count >= start + 3
            }
            ticker.cancel()
            #expect(sawTicks)
        }
    }

    @Test
    func propagatesErrors() async throws {
        try await onHub {
            do {
                _ = try await offloadBlocking { () -> Int in throw OffloadFailure(code: 7) }
                Issue.record("the error was lost")
            } catch let error as OffloadFailure {
                #expect(error == OffloadFailure(code: 7))
            }
        }
    }

    @Test
    func runsCallsInParallelAndKillStopsTheWait() async throws {
        try await onHub {
            let started = monotonicNanoseconds()
            let calls = (0..<8).map { index in
                spawn { try await offloadBlocking { () -> Int in blockFor(seconds: 0.2); return index } }
            }
            #expect(try await joinAll(calls, raiseError: true).count == 8)
            #expect(calls.map { $0.value } == (0..<8).map { $0 })
            // One after another they would take 1.6 s.
            #expect(Double(monotonicNanoseconds() - started) / 1e9 < 1.4)

            let finished = DoneMarker()
            let waiting = spawn {
                try await offloadBlocking { blockFor(seconds: 0.3); finished.mark() }
            }
            try await sleep(0.05)
            waiting.cancel()
            #expect(try await waiting.join(timeout: 0.1))
            #expect(waiting.error is GreenletExit)
            #expect(!finished.isDone)
        }
    }
}
