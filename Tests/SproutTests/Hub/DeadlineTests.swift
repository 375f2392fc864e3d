import Testing

@testable import Sprout

@Suite("Deadline")
struct DeadlineTests {
    @Test func noTimeoutIsNoDeadline() {
        #expect(Deadline(timeout: nil) == nil)
    }

    @Test func aTimeoutInThePastHasPassed() throws {
        let deadline = try #require(Deadline(timeout: -1))
        #expect(deadline.hasPassed)
        #expect(deadline.secondsLeft == 0)
    }

    @Test func aHugeTimeoutNeverPasses() throws {
        // Seconds that overflow the clock's nanoseconds must saturate, not wrap into the past.
        for timeout in [1e300, Double.infinity, Double(UInt64.max) / 1e9] {
            let deadline = try #require(Deadline(timeout: timeout))
            #expect(!deadline.hasPassed)
            #expect(deadline.secondsLeft > 1e9)
        }
    }

    @Test func secondsLeftCountDown() throws {
        let deadline = try #require(Deadline(timeout: 60))
        let left = deadline.secondsLeft
        #expect(left > 0 && left <= 60)
        #expect(!deadline.hasPassed)
    }
}
