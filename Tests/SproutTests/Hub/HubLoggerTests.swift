import Logging
import SproutTestSupport
import Testing
@testable import Sprout

import Glibc

/// `Hub.logger`: each report the hub makes reaches it with the hub's label and its level.
/// The tests set the process-wide logger, so they run one at a time with the other heavy ones.
@Suite(.heavy)
struct HubLoggerTests {
    private func capturing(
        awaiting text: String? = nil, _ body: @escaping @Hub @Sendable (LogCapture) async throws -> Void
    ) async throws -> LogCapture {
        try await capturingHubLogger(awaiting: text, body)
    }

    @Test func anUnreadGreenletErrorIsOneErrorRecord() async throws {
        struct Unread: Error {}
        let capture = try await capturing { _ in
            spawn(name: "unread-by-anyone") { () async throws -> Int in throw Unread() }
            try await sleep(0.05)
        }
        let reports = capture.records(containing: "unread-by-anyone")
        #expect(reports.count == 1, "\(capture.records)")
        #expect(reports.first?.label == "sprout.hub")
        #expect(reports.first?.level == .error)
        #expect(reports.first?.message.contains("failed and nobody read its error: Unread") == true)
    }

    @Test func anUnreadAsyncResultErrorIsOneErrorRecord() async throws {
        struct Unread: Error {}
        let capture = try await capturing { _ in
            do {
                let result = AsyncResult<Int>()
                try result.fail(Unread())
            }
            try await sleep(0.01)
        }
        let reports = capture.records(containing: "nobody read its error: Unread")
        #expect(reports.count == 1, "\(capture.records)")
        #expect(reports.first?.message.hasPrefix("AsyncResult") == true)
        #expect(reports.first?.level == .error && reports.first?.label == "sprout.hub")
    }

    @Test func aBlockedHubIsOneWarningNamingTheGreenlet() async throws {
        let before = Hub.blockingThreshold
        Hub.blockingThreshold = 0.1
        defer { Hub.blockingThreshold = before }
        // The report comes once the hub thread's stack is named, which reads symbol tables
        // (slow in an instrumented build): it may come after the blocker returns.
        let capture = try await capturing(awaiting: "has been blocked for") { _ in
            try await spawn(name: "hub-blocker") {
                try await sleep(0)
                usleep(400_000)
            }.get()
        }
        let reports = capture.records(containing: "hub-blocker")
        #expect(reports.count == 1, "\(capture.records)")
        #expect(reports.first?.level == .warning && reports.first?.label == "sprout.hub")
        #expect(reports.first?.message.contains("has been blocked for") == true)
    }
}

/// Runs `body` on the hub with `Hub.logger` capturing, then, if `awaiting` is given, waits
/// up to `slack(5)` seconds for a record containing it, then puts the old logger back (for
/// `.heavy` suites only: the logger is the whole process's).
func capturingHubLogger(
    awaiting text: String? = nil, _ body: @escaping @Hub @Sendable (LogCapture) async throws -> Void
) async throws -> LogCapture {
    let capture = LogCapture()
    let previous = Hub.logger
    Hub.logger = capture.logger(label: "sprout.hub")
    defer { Hub.logger = previous }
    try await onHub {
        try await body(capture)
        guard let text else { return }
        let deadline = monotonicNanoseconds() + slack(nanoseconds: 5_000_000_000)
        while capture.records(containing: text).isEmpty && monotonicNanoseconds() < deadline {
            try await sleep(0.01)
        }
    }
    return capture
}
