/// How far a map over a ``ProcessPool`` has come, for its progress callback.
public struct ProcessProgress: Sendable {
    /// Items finished (successfully or not).
    public let done: Int
    /// Items in all, when the input is a collection.
    public let total: Int?
    /// Items finished per second since the map started.
    public let rate: Double
}
