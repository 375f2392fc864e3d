/// A job's output was larger than the pool's payload limit, so its worker sent this
/// instead of the output. The job ran; only its answer could not travel.
public struct JobOutputTooLarge: Error, Codable, CustomStringConvertible, Sendable {
    /// The job's type name.
    public let job: String
    /// The encoded output's size in bytes.
    public let bytes: Int
    /// The pool's limit in bytes (`maxPayloadBytes`).
    public let limit: Int

    public var description: String {
        "the output of \(job) is \(bytes) bytes encoded, over the pool's limit of \(limit) bytes (maxPayloadBytes)"
    }
}
