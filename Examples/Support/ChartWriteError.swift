#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The chart file could not be written.
public struct ChartWriteError: Error, CustomStringConvertible {
    /// The path that failed.
    public let path: String
    /// `errno` at the failure.
    public let code: Int32

    /// Says which file and why.
    public var description: String { "cannot write the chart to \(path): \(String(cString: strerror(code)))" }
}
