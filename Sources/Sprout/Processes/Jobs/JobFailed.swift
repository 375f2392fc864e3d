/// The error a job threw in its worker, as its awaiter in the parent sees it: the error's
/// type name and message, and the encoded error itself when it is `Codable`.
public struct JobFailed: Error, CustomStringConvertible, Sendable {
    /// The module-qualified type name of the error the job threw, e.g. `MyApp.BadInput`.
    public let errorType: String
    /// `String(describing:)` of the error, made in the worker.
    public let message: String
    /// The job's type name.
    public let job: String
    /// The error itself, encoded with the pool's coder, when it was `Encodable`.
    public let encodedError: [UInt8]?
    let coder: any ProcessCoder

    /// The error the job threw, decoded as `type`; `nil` if it was not `Encodable` or is
    /// not an `E`.
    public func error<E: Error & Decodable>(as type: E.Type) -> E? {
        guard let encodedError, errorType == String(reflecting: type) else { return nil }
        return try? coder.decode(type, from: encodedError[...])
    }

    public var description: String { "job \(job) threw \(errorType): \(message)" }
}

extension JobFailed {
    /// The error in a failure frame's payload; a coding error if the payload is unreadable.
    static func decode(_ payload: ArraySlice<UInt8>, job: String, coder: any ProcessCoder) -> any Error {
        guard let failure = try? coder.decode(WireFailure.self, from: payload) else {
            return ProcessPoolError.coding(job: job, detail: "unreadable error report from the worker")
        }
        // The worker's own report that the answer could not travel is the pool's error.
        if failure.errorType == String(reflecting: JobOutputTooLarge.self), let encoded = failure.encodedError,
           let tooLarge = try? coder.decode(JobOutputTooLarge.self, from: encoded[...]) {
            return tooLarge
        }
        return JobFailed(errorType: failure.errorType, message: failure.message, job: job,
                         encodedError: failure.encodedError, coder: coder)
    }
}

/// How a failure crosses the channel.
struct WireFailure: Codable, Sendable {
    var errorType: String
    var message: String
    var encodedError: [UInt8]?
}
