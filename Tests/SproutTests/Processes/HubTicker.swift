@testable import Sprout
import SproutHelperSupport

import Glibc

/// A greenlet that wakes every millisecond and records the longest gap between wake-ups:
/// how long the hub was kept from running it.
@Hub
final class HubTicker {
    private(set) var longestGap = 0.0
    /// The most CPU time the hub's thread spent between two wake-ups: the hub's own work
    /// in one stretch, which other processes' load on the machine does not stretch (a gap
    /// also counts the time the thread waited for a core).
    private(set) var longestBusy = 0.0
    var stopped = false

    func run() async throws {
        var last = monotonicNanoseconds()
        var lastBusy = threadCPUNanoseconds()
        while !stopped {
            try await sleep(0.001)
            let now = monotonicNanoseconds()
            let busy = threadCPUNanoseconds()
            longestGap = max(longestGap, Double(now - last) / 1e9)
            longestBusy = max(longestBusy, Double(busy - lastBusy) / 1e9)
            last = now
            lastBusy = busy
        }
    }
}
