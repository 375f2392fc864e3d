import Glibc
import Testing
@testable import Sprout

@Suite("StreamServer", .heavy)
struct StreamServerTests {
    @Test
    func boundPortIsKnownAfterStart() async throws {
        try await onHub {
            let server = try startEchoServer()
            #expect(server.port > 0)
            #expect(server.isServing)
            let other = StreamServer(port: server.port) { _ in }
            do {
                try other.start()
                Issue.record("two servers bound the same port")
            } catch let error as IOError {
                #expect(error.name == "EADDRINUSE")
                #expect(error.operation == "listen")
                #expect(error.peer == "127.0.0.1:\(server.port)")
                #expect(error.errno == EADDRINUSE)
            }
            await server.stop(timeout: 0)
            #expect(!server.isServing)
        }
    }

    @Test
    func gracefulStopLetsHandlersFinish() async throws {
        try await onHub {
            let server = StreamServer(port: 0) { stream in
                _ = try await stream.readExactly(1)
                try await sleep(0.2)
                try await stream.write(Array("done".utf8))
            }
            try server.start()
            let port = server.port
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: port)
            try await stream.write([1])
            try await sleep(0.05)
            let stopping = spawn { await server.stop(timeout: 5) }
            try await sleep(0.05)
            // No new connections once stopping began...
            await #expect(throws: IOError.self) { try await TCPStream.connect(host: "127.0.0.1", port: port) }
            // ...but the running handler finishes its reply.
            #expect(try await stream.readToEnd() == Array("done".utf8))
            try await stopping.get()
            #expect(server.connectionCount == 0)
            stream.close()
        }
    }

    @Test
    func stopKillsHandlersAfterTheTimeout() async throws {
        try await onHub {
            let cleanedUp = Flag()
            let server = StreamServer(port: 0) { stream in
                defer { cleanedUp.isSet = true }
                try await sleep(3600)
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            try await sleep(0.05)
            #expect(server.connectionCount == 1)
            let started = monotonicNanoseconds()
            await server.stop(timeout: 0.2)
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            #expect(seconds >= 0.15 && seconds < 2)
            #expect(cleanedUp.isSet)
            #expect(server.connectionCount == 0)
            #expect(try await stream.read() == [])
            stream.close()
        }
    }

    @Test
    func connectionLimitQueuesExtraClients() async throws {
        try await onHub {
            let server = try startEchoServer(maxConnections: 2)
            var streams: [TCPStream] = []
            for _ in 0..<3 {
                streams.append(try await TCPStream.connect(host: "127.0.0.1", port: server.port))
            }
            for stream in streams { try await stream.write([9]) }
            #expect(try await streams[0].readExactly(1) == [9])
            #expect(try await streams[1].readExactly(1) == [9])
            // The third client waits in the backlog: no echo while two are served.
            let third = spawn { try await streams[2].readExactly(1) }
            try await sleep(0.2)
            #expect(!third.isReady)
            #expect(server.connectionCount == 2)
            streams[0].close()
            #expect(try await third.get(timeout: 5) == [9])
            for stream in streams { stream.close() }
            await server.stop(timeout: 1)
        }
    }

    @Test
    func killingServeForeverStopsTheServer() async throws {
        try await onHub {
            let server = StreamServer(port: 0) { _ in }
            let serving = spawn { try await server.serveForever() }
            // serveForever starts the server; a greenlet killed before it ever ran would not.
            for _ in 0..<200 where !server.isServing { try await sleep(0.01) }
            #expect(server.isServing)
            serving.cancel()
            #expect(try await serving.join(timeout: 2))
            #expect(!server.isServing)
            await #expect(throws: IOError.self) { try await TCPStream.connect(host: "127.0.0.1", port: server.port) }
        }
    }
}

/// A flag a greenlet sets and the test reads.
@Hub
final class Flag {
    var isSet = false
}
