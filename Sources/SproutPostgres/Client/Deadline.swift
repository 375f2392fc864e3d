import Sprout

/// A point in time an operation of several waits must finish by (or none), so each wait
/// gets what is left rather than the whole timeout again.
struct Deadline {
    private let end: UInt64?

    init(_ seconds: Double?) {
        end = seconds.map { monotonicNanoseconds() + UInt64(max(0, $0) * 1e9) }
    }

    /// Seconds left (`nil`: no deadline).
    ///
    /// - Throws: ``PostgresError/timedOut(seconds:)`` once it has passed.
    func remaining() throws(PostgresError) -> Double? {
        guard let end else { return nil }
        let now = monotonicNanoseconds()
        guard now < end else { throw .timedOut(seconds: 0) }
        return Double(end - now) / 1e9
    }

    /// Seconds left, `.some(nil)` without a deadline, `nil` once it has passed.
    func remainingOrNil() -> Double?? {
        guard let end else { return .some(nil) }
        let now = monotonicNanoseconds()
        return now < end ? .some(Double(end - now) / 1e9) : nil
    }
}
