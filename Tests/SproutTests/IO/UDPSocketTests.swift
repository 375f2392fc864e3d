import Testing
@testable import Sprout

@Suite("UDPSocket", .heavy)
struct UDPSocketTests {
    @Test
    func datagramRoundTrips() async throws {
        try await onHub {
            let server = try UDPSocket()
            let client = try UDPSocket()
            let serverAddress = try #require(server.localAddress)
            let clientAddress = try #require(client.localAddress)
            #expect(serverAddress.port > 0)
            let echo = spawn {
                for _ in 0..<20 {
                    let (bytes, from) = try await server.receive()
                    try await server.send(bytes, to: from)
                }
            }
            for round in 0..<20 {
                let message = Array("datagram \(round)".utf8)
                try await client.send(message, to: serverAddress)
                let (reply, from) = try await client.receive(timeout: 5)
                #expect(reply == message)
                #expect(from == serverAddress)
            }
            try await echo.get()
            #expect(clientAddress.host == "127.0.0.1")
            client.close()
            server.close()
        }
    }

    @Test
    func ipv6AndEmptyDatagrams() async throws {
        try await onHub {
            let a = try UDPSocket(host: "::1")
            let b = try UDPSocket(host: "::1")
            try await a.send([], to: try #require(b.localAddress))
            let (bytes, from) = try await b.receive(timeout: 5)
            #expect(bytes.isEmpty)
            #expect(from == a.localAddress)
            a.close()
            b.close()
        }
    }

    @Test
    func receiveTimesOutAndCloseWakesReceivers() async throws {
        try await onHub {
            let socket = try UDPSocket()
            do {
                _ = try await socket.receive(timeout: 0.1)
                Issue.record("received from nobody")
            } catch let error as IOError {
                #expect(error.name == "ETIMEDOUT")
            }
            let receiver = spawn { try await socket.receive() }
            try await sleep(0.05)
            socket.close()
            #expect(try await receiver.join(timeout: 2))
            #expect((receiver.error as? IOError)?.name == "EBADF")
        }
    }
}
