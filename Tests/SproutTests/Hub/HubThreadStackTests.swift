import Logging
import SproutHelperSupport
import SproutTestSupport
import Testing
@testable import Sprout

import Glibc

/// The blocked-hub report carries the hub thread's stack, taken from the monitor's thread,
/// and taking it leaves the blocking code alone: a sleep that blocks the hub sleeps its
/// full time. The tests block the hub on purpose, so they run with the other heavy ones.
@Suite(.heavy)
struct HubThreadStackTests {
    /// Long enough that the monitor (100 ms threshold, samples every 10 ms) sees the block
    /// while it lasts, even on a loaded machine.
    private let blockFor = max(0.4, slack(0.4))

    /// Runs `block` in a greenlet with the monitor at 100 ms; the one report and how long
    /// `block` said it took.
    private func report(of block: @escaping @Sendable (Double) -> Double) async throws -> (report: String, took: Double) {
        let before = Hub.blockingThreshold
        Hub.blockingThreshold = 0.1
        defer { Hub.blockingThreshold = before }
        let seconds = blockFor
        // Only this test's blocker: another test's greenlet may block the hub past the lowered
        // threshold meanwhile, and its report is not this one (seen once in a plain run).
        let ours = "in greenlet 'stack-test-blocker'"
        let took = Took()
        // The report comes once its stack is named, which reads symbol tables (a debug test
        // binary's is megabytes): it may come after the blocker returns.
        let capture = try await capturingHubLogger(awaiting: ours) { _ in
            let elapsed = try await spawn(name: "stack-test-blocker") {
                try await sleep(0)
                return block(seconds)
            }.get()
            took.value.withLock { $0 = elapsed }
        }
        let reports = capture.records(containing: ours)
        #expect(reports.count == 1, "\(capture.records)")
        return (reports.first?.message ?? "", took.value.withLock { $0 })
    }

    @Test func aSleepingHubsReportNamesTheFunctionAndTheSleepRunsItsFullTime() async throws {
        let (report, took) = try await report(of: blockTheHubForTest)
        #expect(report.contains("the hub thread's stack when it was seen blocked:"), "\(report)")
        #expect(report.contains("blockTheHubForTest("), "\(report)")
        #expect(report.contains("#0 ") && report.contains("sleep"), "\(report)")
        // Reading the stack did not interrupt the sleep (a signal would end it with EINTR).
        #expect(took >= blockFor * 0.99, "usleep(\(blockFor) s) returned after \(took) s\n\(report)")
    }

    @Test func aSpinningHubsReportNamesTheFunction() async throws {
        let (report, took) = try await report(of: spinTheHubForTest)
        #expect(report.contains("the hub thread's stack when it was seen blocked:"), "\(report)")
        #expect(report.contains("spinTheHubForTest("), "\(report)")
        #expect(took >= blockFor * 0.99)
    }
}

private final class Took: Sendable {
    let value = ThreadMutex(0.0)
}

/// Holds the hub's thread in `usleep` for `seconds`; returns how long the sleep took.
///
/// Every signal is blocked on the thread meanwhile: a child of another test ending (SIGCHLD)
/// may land on the hub thread and end the sleep with EINTR after a millisecond, which failed
/// a plain `swift test` run once. A stack reader that signalled the thread would then get no
/// stack at all, so the report's checks still catch one.
@inline(never)
func blockTheHubForTest(_ seconds: Double) -> Double {
    var all = sigset_t(), previous = sigset_t()
    sigfillset(&all)
    pthread_sigmask(SIG_BLOCK, &all, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    let start = monotonicNanoseconds()
    usleep(useconds_t(seconds * 1e6))
    return Double(monotonicNanoseconds() - start) / 1e9
}

/// Holds the hub's thread in a CPU loop until it has used `seconds` of CPU, with no system
/// call to interrupt; returns how long it ran. CPU time, not wall time: on a loaded machine
/// the thread also waits for a core, which the monitor does not count as blocked.
@inline(never)
func spinTheHubForTest(_ seconds: Double) -> Double {
    let start = monotonicNanoseconds()
    let startCPU = threadCPUNanoseconds()
    var state: UInt64 = 1
    while threadCPUNanoseconds() - startCPU < UInt64(seconds * 1e9) {
        for _ in 0..<10_000 { state = state &* 6_364_136_223_846_793_005 &+ 1 }
    }
    // Keeps the loop's work observable, so the optimizer cannot drop it.
    if state == 0 { print("") }
    return Double(monotonicNanoseconds() - start) / 1e9
}
