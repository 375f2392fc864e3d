import Testing
import Sprout
import SproutTestSupport

import Glibc

/// `sprout-process-server` end to end: the seed's echo server whose hub only accepts and
/// whose pool workers serve the connections.
@Suite("sprout-process-server", .heavy(timeLimit: .seconds(120)))
struct ProcessServerTests {
    @Test func aHundredClientsAreServedAndAKilledWorkerClosesOnlyItsConnection() async throws {
        try await onHub(seconds: 100) {
            let server = try Command(builtExecutable("sprout-process-server"), arguments: ["0", "4"],
                                     standardOutput: .pipe).spawn()
            let output = server.standardOutput!
            func nextLine() async throws -> String {
                try await withTimeout(20) { String(decoding: try await output.readUntil([10]).dropLast(), as: UTF8.self) }
            }
            do {
                let banner = try await nextLine()
                let port = try #require(banner.split(separator: ":").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) },
                                        "\(banner)")

                // One client holds a worker; the server says which.
                let held = try await TCPStream.connect(host: "127.0.0.1", port: port, timeout: 5)
                try await held.write(Array("first".utf8))
                #expect(try await held.readExactly(5) == Array("FIRST".utf8))
                let pidLine = try await nextLine()
                let victim = try #require(pidLine.split(separator: " ").last.flatMap { Int32($0) }, "\(pidLine)")

                let clients = (0..<100).map { index in
                    spawn(name: "client \(index)") { () async throws -> Bool in
                        let connection = try await TCPStream.connect(host: "127.0.0.1", port: port, timeout: 10)
                        defer { connection.close() }
                        for round in 0..<3 {
                            let message = "client \(index) round \(round)"
                            try await connection.write(Array(message.utf8))
                            let reply = try await connection.readExactly(message.utf8.count)
                            guard reply == Array(message.uppercased().utf8) else { return false }
                        }
                        return true
                    }
                }
                // Killed while the others are being served: its client's connection ends.
                kill(victim, SIGKILL)
                let end = try await withTimeout(10) { () async throws -> [UInt8] in
                    do { return try await held.read(upTo: 16) } catch is IOError { return [] }
                }
                #expect(end.isEmpty, "the killed worker's client sees its connection close")
                held.close()

                var served = 0
                for client in clients where try await client.get(timeout: 60) { served += 1 }
                #expect(served == 100, "every other client was answered")
            } catch {
                try? server.kill(SIGKILL)
                _ = try? await server.wait(timeout: 10)
                throw error
            }
            try server.kill(SIGTERM)
            #expect(try await server.wait(timeout: 10) == .exited(143), "Ctrl-C-like shutdown path")
        }
    }
}
