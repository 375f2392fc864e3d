import Testing

/// A trait for tests that must not share the process with another heavy test: those that
/// time the hub, start processes or open many sockets. Every test case it covers runs
/// while holding one process-wide lock, so a plain `swift test` (which runs tests in
/// parallel, in one process, on one hub) never runs two of them at once, while pure unit
/// tests still run beside them.
///
/// Write `@Suite(.heavy)` on a suite (it covers every test in it, nested suites included)
/// or `@Test(.heavy)` on one test. It replaces `.timeLimit`: Swift Testing counts a
/// test's time limit from before its scoping traits run, so a limit would include the
/// wait for the lock. This trait counts its own limit (default one minute, times
/// `SPROUT_TIMING_SLACK`) from the moment the test holds the lock, records an issue when
/// it is exceeded and cancels the test.
public struct HeavyTrait: TestTrait, SuiteTrait, TestScoping {
    /// How long one test case may run once it holds the lock, before slack.
    public var timeLimit: Duration

    /// Applied to a suite, the trait covers every test in it.
    public var isRecursive: Bool { true }

    /// Whether the current task already holds the lock (a suite and one of its tests both
    /// marked heavy), so the inner scope does not wait for itself.
    @TaskLocal private static var holding = false

    /// Scopes each test case, never a whole suite: a suite holding the lock while its
    /// tests wait for it would deadlock.
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> HeavyTrait? {
        testCase == nil ? nil : self
    }

    /// Runs `function` holding the heavy-test lock, within the time limit; rethrows what
    /// `function` throws.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        if Self.holding { return try await function() }
        await HeavyTestLock.shared.acquire()
        defer { HeavyTestLock.shared.release() }
        try await Self.$holding.withValue(true) {
            // The longest limit of the heavy traits on the test (its suite's and its own).
            let limit = test.traits.compactMap { ($0 as? HeavyTrait)?.timeLimit }.max() ?? timeLimit
            try await runWithin(limit * timingSlack, test: test, function)
        }
    }

    private func runWithin(_ limit: Duration, test: Test, _ function: @Sendable () async throws -> Void) async throws {
        try await withoutActuallyEscaping(function) { function in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await function() }
                group.addTask {
                    // Cancelled when the body finished in time: nothing to report.
                    do { try await Task.sleep(for: limit) } catch { return }
                    Issue.record("\(test.name) ran past its time limit of \(limit) (counted from when it got the heavy-test lock)")
                }
                // The first to finish decides: the body (the timer is cancelled), or the timer
                // (the body is cancelled and awaited, so the lock is not released under it).
                defer { group.cancelAll() }
                try await group.next()
                group.cancelAll()
                while try await group.next() != nil {}
            }
        }
    }
}

extension Trait where Self == HeavyTrait {
    /// Runs each test case alone among heavy tests, within one minute (times
    /// `SPROUT_TIMING_SLACK`) counted from when it gets its turn. See ``HeavyTrait``.
    public static var heavy: HeavyTrait { HeavyTrait(timeLimit: .seconds(60)) }

    /// Runs each test case alone among heavy tests, within `timeLimit` (times
    /// `SPROUT_TIMING_SLACK`) counted from when it gets its turn. See ``HeavyTrait``.
    public static func heavy(timeLimit: Duration) -> HeavyTrait { HeavyTrait(timeLimit: timeLimit) }
}
