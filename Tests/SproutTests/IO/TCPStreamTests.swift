import Testing
@testable import Sprout

@Suite("TCPStream", .heavy)
struct TCPStreamTests {
    @Test
    func echoRoundTrips() async throws {
        try await onHub {
            let server = try startEchoServer()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            #expect(stream.remoteAddress == SocketAddress(host: "127.0.0.1", port: server.port))
            #expect(stream.localAddress?.host == "127.0.0.1")
            for round in 0..<200 {
                let message = Array("round \(round)\n".utf8)
                try await stream.write(message)
                #expect(try await stream.readExactly(message.count) == message)
            }
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func ipv6Loopback() async throws {
        try await onHub {
            let server = try startEchoServer(host: "::1")
            let stream = try await TCPStream.connect(host: "::1", port: server.port)
            try await stream.write(Array("v6".utf8))
            #expect(try await stream.readExactly(2) == Array("v6".utf8))
            #expect(stream.remoteAddress?.isIPv6 == true)
            #expect(stream.remoteAddress?.description == "[::1]:\(server.port)")
            stream.close()
            await server.stop(timeout: 0)
        }
    }

    @Test
    func connectByNameResolvesLocalhost() async throws {
        try await onHub {
            let server = try startEchoServer()
            let stream = try await TCPStream.connect(host: "localhost", port: server.port, timeout: 10)
            try await stream.write([1, 2, 3])
            #expect(try await stream.readExactly(3) == [1, 2, 3])
            stream.close()
            await server.stop(timeout: 0)
        }
    }

    @Test
    func connectRefusedNamesTheOperation() async throws {
        try await onHub {
            let server = try startEchoServer()
            let port = server.port
            await server.stop(timeout: 0)
            do {
                _ = try await TCPStream.connect(host: "127.0.0.1", port: port)
                Issue.record("connect to a closed port succeeded")
            } catch let error as IOError {
                #expect(error.name == "ECONNREFUSED")
                #expect(error.description.hasPrefix("connect 127.0.0.1:\(port): ECONNREFUSED"))
            }
        }
    }

    @Test
    func readHelpersAndHalfClose() async throws {
        try await onHub {
            let server = StreamServer(port: 0) { stream in
                let line = try await stream.readUntil(Array("\n".utf8), maxLength: 100)
                let body = try await stream.readToEnd(maxLength: 1000)
                try await stream.write(Array("got \(line.count) then \(body.count)".utf8))
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            try await stream.write(Array("hello\nworld".utf8))
            try await stream.shutdownWrite()
            #expect(try await stream.readToEnd() == Array("got 6 then 5".utf8))
            #expect(try await stream.read() == [])
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func readUntilLimitAndEnd() async throws {
        try await onHub {
            let server = StreamServer(port: 0) { stream in
                try await stream.write(Array(repeating: 65, count: 50) + [10])
                try await stream.write(Array("tail".utf8))
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            await #expect(throws: IOError.self) { try await stream.readUntil([10], maxLength: 20) }
            #expect(try await stream.readUntil([10], maxLength: 51).count == 51)
            do {
                _ = try await stream.readUntil([10])
                Issue.record("readUntil returned without a delimiter")
            } catch let error as IOError {
                #expect(error.name == "EOF")
            }
            #expect(try await stream.read() == Array("tail".utf8))
            #expect(try await stream.read() == [])
            stream.close()
            await server.stop(timeout: 1)
        }
    }
}
