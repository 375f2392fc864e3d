@testable import Sprout

/// A greenlet that wakes every millisecond and records the longest gap between wake-ups:
/// how long the hub was kept from running it.
@Hub
final class HubTicker {
    private(set) var longestGap = 0.0
    var stopped = false

    func run() async throws {
        var last = monotonicNanoseconds()
        while !stopped {
            try await sleep(0.001)
            let now = monotonicNanoseconds()
            longestGap = max(longestGap, Double(now - last) / 1e9)
            last = now
        }
    }
}
