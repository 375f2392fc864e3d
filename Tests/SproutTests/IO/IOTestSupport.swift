@testable import Sprout

/// Runs `body` as a greenlet and returns its result, failing after `seconds` — so a test
/// body never blocks Swift's cooperative pool and never hangs.
func onHub<T: Sendable>(
    seconds: Double = 30,
    _ body: @escaping @Hub @Sendable () async throws -> T
) async throws -> T {
    let greenlet = spawn { try await withTimeout(seconds, body) }
    return try await greenlet.get()
}

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

/// A cheap checksum for large transfers (FNV-1a over all bytes).
struct Checksum {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }
}
