import Testing
@testable import Sprout
import SproutHTTP

import Glibc

/// Reads until the server closes `stream` (end of stream or a reset) and returns the
/// seconds since `started` and the bytes read.
@Hub
private func readUntilClosed(_ stream: TCPStream, since started: UInt64) async -> (seconds: Double, bytes: [UInt8]) {
    var bytes: [UInt8] = []
    while let more = try? await stream.read(), !more.isEmpty { bytes += more }
    return (Double(monotonicNanoseconds() - started) / 1e9, bytes)
}

@Hub
private func startServer(_ configuration: HTTPServer.Configuration) throws -> HTTPServer {
    let server = try HTTPServer(host: "127.0.0.1", port: 0, configuration: configuration) { request in
        HTTPServerResponse(text: "\(request.path) \(request.text)")
    }
    try server.start()
    return server
}

/// Timeouts scaled down from the defaults so each test takes about a second.
private let quick = HTTPServer.Configuration(headTimeout: 0.6, bodyTimeout: 0.4, keepAliveTimeout: 0.4, writeTimeout: 1)

@Suite("HTTPServer.Configuration", .heavy)
struct HTTPServerConfigurationTests {
    @Test
    func settingsOutOfRangeAreRefusedAtConstruction() async throws {
        try await onHub {
            let bad: [(HTTPServer.Configuration, String)] = [
                (.init(headTimeout: 0), "headTimeout"),
                (.init(bodyTimeout: -1), "bodyTimeout"),
                (.init(keepAliveTimeout: .infinity), "keepAliveTimeout"),
                (.init(writeTimeout: .nan), "writeTimeout"),
                (.init(maxConnections: 0), "maxConnections"),
                (.init(maxHeadBytes: 10), "maxHeadBytes"),
                (.init(maxHeaderCount: -1), "maxHeaderCount"),
                (.init(maxBodyBytes: Int.max), "maxBodyBytes"),
                (.init(maxBodyBytes: -1), "maxBodyBytes"),
            ]
            for (configuration, setting) in bad {
                #expect(throws: HTTPServerConfigurationError.self, "\(setting)") {
                    _ = try HTTPServer(configuration: configuration) { _ in HTTPServerResponse() }
                }
                do throws(HTTPServerConfigurationError) {
                    try configuration.validate()
                } catch {
                    #expect(error.setting == setting)
                }
            }
            try HTTPServer.Configuration().validate()
        }
    }

    @Test
    func defaultsAreTheDocumentedOnes() {
        let defaults = HTTPServer.Configuration()
        #expect(defaults.headTimeout == 30)
        #expect(defaults.bodyTimeout == 60)
        #expect(defaults.keepAliveTimeout == 5)
        #expect(defaults.writeTimeout == 60)
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(defaults.maxConnections == Int(limit.rlim_cur) / 10 * 9)
    }

    /// One byte every 100 ms keeps every single read short; only a deadline on the whole
    /// head closes the connection.
    @Test
    func aClientTricklingItsHeadIsClosedAtTheHeadDeadline() async throws {
        try await onHub {
            let server = try startServer(quick)
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { stream.close() }
            let started = monotonicNanoseconds()
            let trickle = spawn {
                for byte in Array(("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 200)).utf8) {
                    try await stream.write([byte])
                    try await sleep(0.1)
                }
            }
            let (seconds, answer) = await readUntilClosed(stream, since: started)
            try await trickle.kill(timeout: 5)
            #expect(answer.isEmpty)
            #expect(seconds >= 0.55, "closed after \(seconds) s")
            #expect(seconds < slack(3), "closed after \(seconds) s")
            await server.stop(timeout: 1)
        }
    }

    @Test
    func anIdleKeepAliveConnectionIsClosed() async throws {
        try await onHub {
            let server = try startServer(quick)
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { stream.close() }
            try await stream.write(Array("GET /one HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            _ = try await stream.readUntil(Array("/one ".utf8))
            let started = monotonicNanoseconds()
            let (seconds, rest) = await readUntilClosed(stream, since: started)
            #expect(rest.isEmpty)
            #expect(seconds >= 0.35, "closed after \(seconds) s")
            #expect(seconds < slack(3), "closed after \(seconds) s")
            #expect(server.connectionCount == 0)
            await server.stop(timeout: 1)
        }
    }

    @Test
    func aBodyThatStopsArrivingIsClosed() async throws {
        try await onHub {
            let server = try startServer(quick)
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { stream.close() }
            let started = monotonicNanoseconds()
            try await stream.write(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab".utf8))
            let (seconds, answer) = await readUntilClosed(stream, since: started)
            #expect(answer.isEmpty)
            #expect(seconds >= 0.35, "closed after \(seconds) s")
            #expect(seconds < slack(3), "closed after \(seconds) s")
            await server.stop(timeout: 1)
        }
    }

    /// A client that asks for a large response and reads none of it is closed once its
    /// queued bytes have not moved for the write timeout.
    @Test
    func aClientThatStopsReadingIsClosedAtTheWriteTimeout() async throws {
        try await onHub {
            let big = [UInt8](repeating: 120, count: 32 << 20)
            let server = try HTTPServer(configuration: HTTPServer.Configuration(keepAliveTimeout: 30, writeTimeout: 0.5)) { _ in
                HTTPServerResponse(body: big)
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { stream.close() }
            try await stream.write(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let started = monotonicNanoseconds()
            while server.connectionCount > 0, Double(monotonicNanoseconds() - started) / 1e9 < slack(10) {
                try await sleep(0.05)
            }
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            #expect(server.connectionCount == 0, "still open after \(seconds) s")
            #expect(seconds >= 0.45, "closed after \(seconds) s")
            await server.stop(timeout: 1)
        }
    }

    /// Pipelined requests, `Connection: close` and a body sent in pieces well within the
    /// timeouts still work under the short timeouts.
    @Test
    func wellBehavedClientsAreServedUnderShortTimeouts() async throws {
        try await onHub {
            let server = try startServer(quick)
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { stream.close() }
            try await stream.write(Array(("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nfi").utf8))
            for piece in ["rs", "t!"] {
                try await sleep(0.2)
                try await stream.write(Array(piece.utf8))
            }
            try await stream.write(Array("GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            let (_, bytes) = await readUntilClosed(stream, since: monotonicNanoseconds())
            let text = String(decoding: bytes, as: UTF8.self)
            let bodies = text.split(separator: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "H" } }
            #expect(bodies == ["/a ", "/b ", "/c first!", "/d "], "\(text.debugDescription)")
            #expect(text.hasSuffix("/d "), "the server closes after the Connection: close answer")
            await server.stop(timeout: 1)
        }
    }

    /// At the limit a new client waits in the backlog while the connected ones are served;
    /// it is answered once one of them leaves.
    @Test
    func atMaxConnectionsNewClientsWaitAndOthersAreServed() async throws {
        try await onHub {
            let server = try startServer(HTTPServer.Configuration(maxConnections: 2))
            var first: [TCPStream] = []
            for index in 0..<2 {
                let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
                try await stream.write(Array("GET /\(index) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                _ = try await stream.readUntil(Array("/\(index) ".utf8))
                first.append(stream)
            }
            let waiting = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { waiting.close() }
            try await waiting.write(Array("GET /late HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let early = try await withTimeout(0.3, default: [UInt8]()) { try await waiting.read() }
            #expect(early.isEmpty, "answered beyond maxConnections")
            try await first[1].write(Array("GET /again HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            _ = try await first[1].readUntil(Array("/again ".utf8))
            #expect(server.connectionCount == 2)
            first[0].close()
            _ = try await waiting.readUntil(Array("/late ".utf8))
            first[1].close()
            await server.stop(timeout: 1)
        }
    }
}
