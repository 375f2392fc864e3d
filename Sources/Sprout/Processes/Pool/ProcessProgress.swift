/// How far a map over a ``ProcessPool`` has come, for its progress callback; hand the
/// callback ``ProgressLine/update(_:)`` for a ready-made line on a terminal.
public struct ProcessProgress: Sendable {
    /// Items finished (successfully or not).
    public let done: Int
    /// Items in all, when the input is a collection.
    public let total: Int?
    /// Items among ``done`` that failed (a job's error, a crashed worker).
    public let failed: Int
    /// Items finished per second since the map started.
    public let rate: Double
}
