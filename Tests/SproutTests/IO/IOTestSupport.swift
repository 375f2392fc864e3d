@testable import Sprout

import Glibc

/// Starts an echo server on a free loopback port; stop it when done.
@Hub
func startEchoServer(host: String = "127.0.0.1", maxConnections: Int? = nil) throws -> StreamServer {
    let server = StreamServer(host: host, port: 0, maxConnections: maxConnections) { stream in
        while true {
            let bytes = try await stream.read()
            if bytes.isEmpty { return }
            try await stream.write(bytes)
        }
    }
    try server.start()
    return server
}

/// Byte-for-byte equality with `memcmp`: `==` on large arrays in a debug build would hold
/// the hub (which every test shares) for a noticeable time.
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
}

/// `count` bytes of a repeating 64 KiB pattern, built with bulk copies (fast in debug builds).
func patternBytes(_ count: Int) -> [UInt8] {
    let block = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + block.count)
    while bytes.count < count { bytes += block }
    bytes.removeLast(bytes.count - count)
    return bytes
}
