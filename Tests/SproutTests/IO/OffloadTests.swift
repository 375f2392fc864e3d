import Synchronization
import Testing
@testable import Sprout

#if canImport(Glibc)
import Glibc
#endif

struct OffloadFailure: Error, Equatable {
    let code: Int
}

/// Set by a blocking call on a pool thread, read by the test.
final class DoneMarker: Sendable {
    private let done = Atomic<Bool>(false)
    var isDone: Bool { done.load(ordering: .acquiring) }
    func mark() { done.store(true, ordering: .releasing) }
}

@Suite("offloadBlocking")
struct OffloadTests {
    @Test(.timeLimit(.minutes(1)))
    func returnsTheResultWhileTheHubRuns() async throws {
        try await onHub {
            var ticks = 0
            let ticker = spawn {
                while true {
                    try await sleep(0.01)
                    ticks += 1
                }
            }
            // Blocks its pool thread for 0.2 s; the hub keeps running the ticker meanwhile.
            let value = try await offloadBlocking { () -> Int in
                usleep(200_000)
                return 42
            }
            ticker.cancel()
            #expect(value == 42)
            #expect(ticks >= 5)
        }
    }

    @Test(.timeLimit(.minutes(1)))
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

    @Test(.timeLimit(.minutes(1)))
    func runsCallsInParallelAndKillStopsTheWait() async throws {
        try await onHub {
            let started = monotonicNanoseconds()
            let calls = (0..<8).map { index in
                spawn { try await offloadBlocking { () -> Int in usleep(200_000); return index } }
            }
            #expect(try await joinAll(calls, raiseError: true).count == 8)
            #expect(calls.map { $0.value } == (0..<8).map { $0 })
            #expect(Double(monotonicNanoseconds() - started) / 1e9 < 1.2)

            let finished = DoneMarker()
            let waiting = spawn {
                try await offloadBlocking { usleep(300_000); finished.mark() }
            }
            try await sleep(0.05)
            waiting.cancel()
            #expect(try await waiting.join(timeout: 0.1))
            #expect(waiting.error is GreenletExit)
            #expect(!finished.isDone)
        }
    }
}
