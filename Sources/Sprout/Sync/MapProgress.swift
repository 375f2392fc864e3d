/// How far a map has come — over a greenlet ``Pool`` or a ``ProcessPool`` — for its
/// `progress:` callback; hand the callback ``ProgressLine/update(_:)`` for a ready-made
/// line on a terminal.
public struct MapProgress: Sendable {
    /// Items finished (successfully or not).
    public let done: Int
    /// Items in all, when the input is a collection.
    public let total: Int?
    /// Items among ``done`` that failed (a job's error, a crashed worker, a throwing call).
    public let failed: Int
    /// Items finished per second since the map started.
    public let rate: Double

    /// The progress of a map that started at `started` (``monotonicNanoseconds()``).
    init(done: Int, total: Int?, failed: Int, since started: UInt64) {
        self.done = done
        self.total = total
        self.failed = failed
        let seconds = Double(monotonicNanoseconds() &- started) / 1e9
        rate = seconds > 0 ? Double(done) / seconds : 0
    }
}
