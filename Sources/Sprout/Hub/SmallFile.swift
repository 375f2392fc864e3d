import Glibc

/// The bytes of a small file such as those under `/proc` and `/sys`, read with one `read` of
/// up to `limit` bytes (the kernel makes such files whole on each read), or `nil` if it cannot
/// be opened or read.
func readSmallFile(_ path: String, limit: Int = 4096) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: limit)
    let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count >= 0 else { return nil }
    bytes.removeSubrange(count...)
    return bytes
}
