#if canImport(Glibc)
import Glibc
#endif

/// The whole text of the file at `path`, or `nil` if it cannot be opened. Reads until end
/// of file rather than trusting the file's size, which is 0 for everything in /proc.
/// (LeakSanitizer reported a leak inside Foundation's `String(contentsOfFile:)` reading
/// /proc in the PostgreSQL tests; this reads with the C library only.)
public func readFile(_ path: String) -> String? {
    readFileBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

/// The whole contents of the file at `path`, or `nil` if it cannot be opened; read as
/// ``readFile(_:)`` reads.
public func readFileBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}
