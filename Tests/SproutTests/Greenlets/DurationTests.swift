import Testing
@testable import Sprout

/// The `Duration` overloads take the same time as their `Double` twins: a wrong conversion
/// (attoseconds dropped, a factor of 1000) shows in the recorded timeout or the wait.
@Suite(.heavy)
struct DurationTests {
    @Test func durationsConvertToSeconds() {
        #expect(Duration.milliseconds(20).inSeconds == 0.02)
        #expect(Duration.seconds(5).inSeconds == 5)
        #expect(Duration.microseconds(1500).inSeconds == 0.0015)
    }

    @Test func sleepAndTimeoutsTakeDurations() async throws {
        try await onHub {
            let start = monotonicNanoseconds()
            try await sleep(for: .milliseconds(30))
            #expect(monotonicNanoseconds() - start >= 30_000_000)

            do {
                try await withTimeout(.milliseconds(20)) { try await sleep(3600) }
                Issue.record("the timeout did not fire")
            } catch let timeout as Timeout {
                #expect(timeout.seconds == 0.02)
            }
            #expect(try await withTimeout(.milliseconds(10), default: -1) { try await sleep(3600); return 1 } == -1)

            let sleeper = spawn { try await sleep(3600) }
            #expect(try await sleeper.join(timeout: .milliseconds(10)) == false)
            #expect(try await joinAll([sleeper], timeout: .milliseconds(10)).isEmpty)
            try await sleeper.kill(timeout: .seconds(1))
            #expect(sleeper.isReady)

            #expect(try await Event().wait(timeout: .milliseconds(10)) == false)
            #expect(try await Semaphore(value: 0).acquire(timeout: .milliseconds(10)) == false)
            let queue = Queue<Int>()
            await #expect(throws: QueueError.empty) { _ = try await queue.get(timeout: .milliseconds(10)) }
            try await queue.put(7, timeout: .seconds(1))
            #expect(try await queue.get(timeout: .seconds(1)) == 7)
        }
    }

    @Test func spawningWaitingAndGroupsTakeDurations() async throws {
        try await onHub {
            let start = monotonicNanoseconds()
            let late = spawnLater(.milliseconds(30)) { monotonicNanoseconds() }
            #expect(try await late.get(timeout: .seconds(5)) - start >= 30_000_000)

            let sleeper = spawn { try await sleep(3600) }
            var yielded = 0
            for try await _ in iwait([sleeper], timeout: .milliseconds(20)) { yielded += 1 }
            for try await _ in iwait([sleeper] as [any Joinable], timeout: .milliseconds(20)) { yielded += 1 }
            #expect(yielded == 0)
            do {
                for try await _ in asCompleted([sleeper], timeout: .milliseconds(20)) {}
                Issue.record("asCompleted did not time out")
            } catch let timeout as Timeout {
                #expect(timeout.seconds == 0.02)
            }
            #expect(try await waitForAll(timeout: .milliseconds(20)) == false)

            let group = Group()
            group.spawn { try await sleep(3600) }
            let before = monotonicNanoseconds()
            #expect(try await group.join(timeout: .milliseconds(20)) == false)
            let waited = monotonicNanoseconds() - before
            #expect(waited >= 20_000_000 && waited < 2_000_000_000, "waited \(waited) ns")
            #expect(try await group.kill(timeout: .seconds(1)))

            let pool = Pool(size: 1)
            try await pool.spawn { try await sleep(3600) }
            #expect(try await pool.waitAvailable(timeout: .milliseconds(10)) == false)
            #expect(try await pool.join(timeout: .milliseconds(10)) == false)
            #expect(try await pool.kill(timeout: .seconds(1)))

            let queue = JoinableQueue<Int>()
            try await queue.put(1)
            #expect(try await queue.join(timeout: .milliseconds(10)) == false)
            _ = try await queue.get()
            try queue.taskDone()
            #expect(try await queue.join(timeout: .seconds(1)))
            try await sleeper.kill()
        }
    }
}
