import Glibc
import SproutTestSupport
import Testing

@testable import Sprout

@Suite("WaitForDescriptor", .heavy)
struct WaitForDescriptorTests {
    @Test
    func readableOnlyOnceTheOtherEndWrites() async throws {
        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, SocketPairKind.stream, 0, &ends) == 0)
        let (reader, writer) = (ends[0], ends[1])
        defer { close(reader); close(writer) }
        let (before, after, writable) = try await onHub {
            let before = try await waitReadable(reader, timeout: 0.05)
            var byte: UInt8 = 1
            #expect(write(writer, &byte, 1) == 1)
            let after = try await waitReadable(reader, timeout: 5)
            return (before, after, try await waitWritable(writer, timeout: 5))
        }
        #expect(!before)
        #expect(after)
        #expect(writable)
    }

    @Test
    func aBadDescriptorIsATypedError() async throws {
        await #expect(throws: IOError.self) {
            try await onHub { try await waitReadable(-1, timeout: 1) }
        }
    }
}
