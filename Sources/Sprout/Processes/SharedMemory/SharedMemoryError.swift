import Glibc

/// Why shared memory could not be made or opened.
public struct SharedMemoryError: Error, CustomStringConvertible, Sendable {
    /// What was being done, e.g. `shm_open /sprout-123-1`.
    public let operation: String
    /// The `errno` it failed with.
    public let code: Int32

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
