import Testing
@testable import Sprout

import Glibc

@Suite("UnixStream", .heavy)
struct UnixStreamTests {
    static func socketPath(_ name: String) -> String {
        "/tmp/sprout-test-\(getpid())-\(name).sock"
    }

    @Test
    func echoRoundTripsOverAUnixSocket() async throws {
        let path = Self.socketPath("echo")
        try await onHub {
            let server = StreamServer(unixPath: path) { stream in
                #expect(stream.path == path)
                while true {
                    let line = try await stream.readUntil([10], maxLength: 1024)
                    if line.isEmpty { return }
                    try await stream.write(line)
                }
            }
            try server.start()
            #expect(server.unixPath == path)
            let stream = try await UnixStream.connect(path: path)
            for round in 0..<50 {
                let line = Array("line \(round)\n".utf8)
                try await stream.write(line)
                #expect(try await stream.readUntil([10]) == line)
            }
            stream.close()
            await server.stop(timeout: 1)
            // The socket file goes with the server.
            #expect(access(path, F_OK) != 0)
        }
    }

    @Test
    func connectToAMissingSocketFails() async throws {
        let path = Self.socketPath("missing")
        try await onHub {
            do {
                _ = try await UnixStream.connect(path: path)
                Issue.record("connected to a socket that does not exist")
            } catch let error as IOError {
                #expect(error.name == "ENOENT")
                #expect(error.description.hasPrefix("connect \(path): ENOENT"))
            }
        }
    }

    @Test
    func staleSocketFileIsReplaced() async throws {
        let path = Self.socketPath("stale")
        try await onHub {
            let first = StreamServer(unixPath: path) { _ in }
            try first.start()
            // Simulates a crashed server: the file stays behind, nobody listens.
            let second = StreamServer(unixPath: path) { stream in try await stream.write([42]) }
            try second.start()
            let stream = try await UnixStream.connect(path: path)
            #expect(try await stream.readExactly(1) == [42])
            stream.close()
            await second.stop(timeout: 1)
            await first.stop(timeout: 0)
        }
    }
}
