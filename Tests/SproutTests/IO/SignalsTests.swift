import Testing
@testable import Sprout

import Glibc

/// In-process checks that need no signal to be delivered (delivery itself is checked in
/// a helper process, `IOProcessTests`: a stray signal here would hit the test runner).
@Suite("Signals", .heavy)
struct SignalsTests {
    @Test
    func waitTimesOutAndCloseEndsTheSequence() async throws {
        try await onHub {
            do {
                _ = try await Signals.wait(for: SIGUSR2, timeout: 0.05)
                Issue.record("a signal arrived from nowhere")
            } catch let error as IOError {
                #expect(error.name == "ETIMEDOUT")
            }
            let signals = try Signals(SIGUSR2)
            let loop = spawn {
                var count = 0
                for try await _ in signals { count += 1 }
                return count
            }
            try await sleep(0.05)
            signals.close()
            #expect(try await loop.get(timeout: 2) == 0)
        }
    }

    @Test
    func uncatchableSignalsAreRefused() async throws {
        let refused = try await onHub { () -> Bool in
            do {
                _ = try Signals(SIGKILL)
                return false
            } catch {
                return (error as? IOError)?.name == "EINVAL"
            }
        }
        #expect(refused)
    }
}
