import Testing
@testable import Sprout
import SproutTestSupport

import Glibc

@Suite("ByteStream.detachDescriptor", .heavy)
struct DetachDescriptorTests {
    @Test func aDetachedConnectionIsServedWithPlainBlockingCalls() async throws {
        let reply = try await onHub { () async throws -> String in
            let detached = Queue<Int32>()
            let server = StreamServer(host: "127.0.0.1", port: 0) { connection in
                try detached.putNowait(try connection.detachDescriptor())
                #expect(connection.isClosed)
            }
            try server.start()
            let client = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { client.close() }
            let fd = try await detached.get(timeout: 5)
            defer { close(fd) }
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK == 0, "blocking mode, for a worker's plain read")
            try await client.write(Array("ping".utf8))
            // The detached socket no longer belongs to the hub: read it off the hub's thread.
            let echoed = try await offloadBlocking { () -> Int in
                var buffer = [UInt8](repeating: 0, count: 16)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                let upper = buffer[0..<max(count, 0)].map { $0 - 32 }
                return upper.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            #expect(echoed == 4)
            let reply = String(decoding: try await client.readExactly(4), as: UTF8.self)
            await server.stop()
            return reply
        }
        #expect(reply == "PING")
    }

    @Test func bytesReadAheadRefuseTheDetach() async throws {
        let error = try await onHub { () async throws -> IOError? in
            let outcome = Queue<IOError?>()
            let server = StreamServer(host: "127.0.0.1", port: 0) { connection in
                _ = try await connection.readExactly(1)   // "a" read, "b" left in the stream's buffer
                do {
                    let fd = try connection.detachDescriptor()
                    close(fd)
                    try outcome.putNowait(nil)
                } catch let error as IOError {
                    try outcome.putNowait(error)
                }
            }
            try server.start()
            let client = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: 5)
            defer { client.close() }
            try await client.write(Array("ab".utf8))
            let error = try await outcome.get(timeout: 5)
            await server.stop()
            return error
        }
        #expect(error?.name == "EBUSY")
    }
}
