/// The moment a wait with a timeout must end, on the hub's monotonic clock.
///
/// A wait that parks more than once (a loop that wakes, finds nothing and parks again; a
/// connect that tries several addresses) turns its `timeout` into a deadline once and
/// parks each time for what is left of it, so the whole wait — not each park — gets the
/// timeout. `nil` (from `Deadline(timeout: nil)`) means no limit, and optional chaining
/// carries it: `deadline?.secondsLeft` is the next park's timeout.
package struct Deadline: Sendable {
    /// In ``monotonicNanoseconds()``.
    private let instant: UInt64

    /// `timeout` seconds from now; `nil` when `timeout` is `nil` (no limit). A negative
    /// timeout has already passed; a huge one never passes.
    package init?(timeout: Double?) {
        guard let timeout else { return nil }
        let (sum, overflow) = monotonicNanoseconds().addingReportingOverflow(nanoseconds(timeout))
        instant = overflow ? .max : sum
    }

    /// Seconds until the deadline; 0 once it has passed.
    package var secondsLeft: Double {
        let now = monotonicNanoseconds()
        return now < instant ? Double(instant - now) / 1e9 : 0
    }

    /// True once the deadline has passed.
    package var hasPassed: Bool {
        monotonicNanoseconds() >= instant
    }
}
