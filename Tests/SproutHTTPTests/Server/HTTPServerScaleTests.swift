import Testing
@testable import Sprout
import SproutHTTP
import SproutHelperSupport

import Glibc

@Suite("HTTPServer with 10,000 keep-alive connections")
struct HTTPServerScaleTests {
    static let connections = 10_000

    /// The clients are a helper process of their own: client and server in one process
    /// would need the whole open-file limit (20,000 on these machines) for 10,000
    /// connections. The server must hold all of them at once (the helper keeps each open
    /// until every one is answered, then asks again on each), answer all 20,000 requests,
    /// and end with the descriptors it started with once the clients close.
    @Test(.heavy(timeLimit: .seconds(180)))
    func tenThousandKeepAliveConnectionsAreEachAnswered() async throws {
        let helper = helperPath()
        try await onHub(seconds: 170) {
            // Idle keep-alive connections wait while the rest are being opened: a keep-alive
            // timeout of 5 s would close the first ones before the helper asks again.
            let configuration = HTTPServer.Configuration(keepAliveTimeout: 120, maxConnections: Self.connections + 100)
            let server = try HTTPServer(configuration: configuration) { _ in HTTPServerResponse(text: "hello") }
            try server.start()
            let before = socketDescriptors(port: server.port)
            var most = 0
            let watcher = spawn {
                while true {
                    most = max(most, server.connectionCount)
                    try await sleep(0.05)
                }
            }
            let run = try await Command(
                helper, arguments: ["keep-alive", "\(server.port)", "\(Self.connections)"]
            ).output(timeout: 150)
            watcher.cancel()
            #expect(run.succeeded, "\(run.status): \(String(decoding: run.standardOutput + run.standardError, as: UTF8.self))")
            #expect(most == Self.connections, "at most \(most) connections open at once")
            var after = socketDescriptors(port: server.port)
            let deadline = Deadline(timeout: 20)
            while after != before, deadline?.hasPassed != true {
                try await sleep(0.1)
                after = socketDescriptors(port: server.port)
            }
            #expect(after == before, "\(after) descriptors of port \(server.port) after the clients left, \(before) before")
            await server.stop(timeout: 1)
        }
    }
}

/// How many of this process's descriptors are TCP sockets bound to local `port` (the
/// listening socket and the connections it accepted): counted from /proc so that other
/// tests' descriptors in this process do not disturb the count.
private func socketDescriptors(port: Int) -> Int {
    var inodes = Set<Substring>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let file = fopen(table, "r") else { continue }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ..."
            let fields = String(cString: line).split(separator: " ")
            guard fields.count > 9, let colon = fields[1].lastIndex(of: ":"),
                  Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port else { continue }
            inodes.insert(fields[9])
        }
    }
    // Each reads "12 -> socket:[123]".
    return openDescriptors().count { descriptor in
        guard descriptor.hasSuffix("]"), let open = descriptor.lastIndex(of: "[") else { return false }
        return inodes.contains(descriptor[descriptor.index(after: open)..<descriptor.index(before: descriptor.endIndex)])
    }
}
