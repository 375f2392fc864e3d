/// The error a job ends with when it was cancelled (its handle's `cancel()`, a pool
/// shut down with `cancelPending`, or terminated) before it finished.
public struct JobCancelled: Error, CustomStringConvertible, Sendable {
    /// The job (`String(describing:)`, shortened).
    public let job: String
    public var description: String { "job \(job) was cancelled" }
}
