import Glibc

/// A file the examples write (a chart, a table) could not be written.
public struct FileWriteError: Error, CustomStringConvertible {
    /// The path that failed.
    public let path: String
    /// `errno` at the failure.
    public let code: Int32

    /// Says which file and why.
    public var description: String { "cannot write \(path): \(String(cString: strerror(code)))" }
}

/// Writes `text` to `path`, replacing the file.
///
/// - Throws: ``FileWriteError`` if the file cannot be opened or written.
public func writeTextFile(_ text: String, to path: String) throws(FileWriteError) {
    guard let file = fopen(path, "w") else { throw FileWriteError(path: path, code: errno) }
    defer { fclose(file) }
    let utf8 = Array(text.utf8)
    guard fwrite(utf8, 1, utf8.count, file) == utf8.count else { throw FileWriteError(path: path, code: errno) }
}
