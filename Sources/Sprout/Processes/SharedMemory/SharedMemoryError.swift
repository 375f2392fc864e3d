import Glibc

/// Why shared memory could not be made or opened.
public struct SharedMemoryError: Error, CustomStringConvertible, Sendable {
    /// What was being done, e.g. `open /proc/123/fd/7#2048`.
    public let operation: String
    /// The `errno` it failed with.
    public let code: Int32
    /// What was wrong when no system call failed, e.g. a region smaller than its contents.
    public let detail: String?

    /// A failure of `operation` with `errno` `code`, or described by `detail`.
    public init(operation: String, code: Int32, detail: String? = nil) {
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(operation): \(detail ?? String(cString: strerror(code)))" }
}
