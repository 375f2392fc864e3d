import Glibc
import Testing
@testable import Sprout

/// The fields of ``IOError`` as real failures fill them in.
@Suite("IOError", .heavy)
struct IOErrorTests {
    @Test
    func aRefusedConnectionNamesOperationPeerAndErrno() async throws {
        try await onHub {
            // A port that was just listened on and is closed again: nothing accepts there.
            let server = StreamServer(port: 0) { _ in }
            try server.start()
            let port = server.port
            await server.stop(timeout: 0)
            do {
                _ = try await TCPStream.connect(host: "127.0.0.1", port: port)
                Issue.record("connected to a closed port")
            } catch let error as IOError {
                #expect(error.operation == "connect")
                #expect(error.peer == "127.0.0.1:\(port)")
                #expect(error.errno == ECONNREFUSED)
                #expect(error.code == -ECONNREFUSED)
                #expect(error.name == "ECONNREFUSED")
                #expect(error.description == "connect 127.0.0.1:\(port): ECONNREFUSED (connection refused)")
            }
        }
    }

    @Test
    func aMissingUnixSocketNamesItsPath() async throws {
        let path = "/tmp/sprout-ioerror-\(getpid()).sock"
        try await onHub {
            do {
                _ = try await UnixStream.connect(path: path)
                Issue.record("connected to a socket that does not exist")
            } catch let error as IOError {
                #expect(error.operation == "connect")
                #expect(error.peer == path)
                #expect(error.errno == ENOENT)
            }
        }
    }

    @Test
    func resolverAndEndOfStreamCodesHaveNoErrno() {
        // libuv's UV_EAI_NONAME and UV_EOF (uv/errno.h); the tests do not import libuv.
        let noName: Int32 = -3008, endOfFile: Int32 = -4095
        let lookup = IOError(code: noName, operation: "resolve", peer: "example.invalid")
        #expect(lookup.errno == nil)
        #expect(lookup.name == "EAI_NONAME")
        #expect(lookup.description.hasPrefix("resolve example.invalid: EAI_NONAME"))
        #expect(IOError(code: endOfFile, operation: "read from").errno == nil)
        #expect(IOError(code: endOfFile, operation: "read from").description.hasPrefix("read from: EOF"))
    }
}
