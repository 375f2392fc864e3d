import Testing
@testable import Sprout

import Glibc

/// Large transfers, flow control and failures on real loopback connections.
@Suite("TCPStream transfers", .heavy)
struct TCPStreamTransferTests {
    /// Chunk `index` of the test data: a fixed pattern with the index in its first bytes,
    /// so chunks differ and a lost or repeated chunk changes the checksum.
    static func patternChunk(_ index: Int, base: [UInt8]) -> [UInt8] {
        var chunk = base
        withUnsafeBytes(of: UInt64(index).littleEndian) { chunk.replaceSubrange(0..<8, with: $0) }
        return chunk
    }

    /// 64 MiB through an echo server, compared byte for byte with what was sent (with
    /// `memcmp`: a checksum loop in a debug build would hold the shared hub for seconds).
    @Test
    func largeTransferArrivesIntact() async throws {
        let chunkSize = 1 << 16
        let chunks = 1024  // 64 MiB
        let base = (0..<chunkSize).map { UInt8(truncatingIfNeeded: $0 &* 31 >> 3) }
        try await onHub(seconds: 55) {
            let server = try startEchoServer()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            let writer = spawn {
                for index in 0..<chunks {
                    try await stream.write(Self.patternChunk(index, base: base))
                }
                try await stream.shutdownWrite()
            }
            var offset = 0
            var mismatches = 0
            var expected = (index: 0, bytes: Self.patternChunk(0, base: base))
            while true {
                let bytes = try await stream.read()
                if bytes.isEmpty { break }
                var done = 0
                while done < bytes.count {
                    let index = (offset + done) / chunkSize
                    let within = (offset + done) % chunkSize
                    let count = min(bytes.count - done, chunkSize - within)
                    if expected.index != index { expected = (index, Self.patternChunk(index, base: base)) }
                    let equal = bytes.withUnsafeBytes { received in
                        expected.bytes.withUnsafeBytes { sent in
                            memcmp(received.baseAddress! + done, sent.baseAddress! + within, count) == 0
                        }
                    }
                    if !equal { mismatches += 1 }
                    done += count
                }
                offset += bytes.count
            }
            #expect(offset == chunkSize * chunks)
            #expect(mismatches == 0)
            try await writer.get()
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func slowReaderHoldsBackTheWriter() async throws {
        let total = 16 << 20
        let chunk = 256 << 10
        try await onHub {
            let report = WriterReport()
            let server = StreamServer(port: 0) { stream in
                let started = monotonicNanoseconds()
                for _ in 0..<(total / chunk) {
                    try await stream.write([UInt8](repeating: 7, count: chunk))
                    report.maxQueued = max(report.maxQueued, stream.queuedWriteBytes)
                }
                report.seconds = Double(monotonicNanoseconds() - started) / 1e9
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            try await sleep(0.5)
            // The reader has not read: the stream read ahead only up to its limit.
            #expect(stream.bufferedCount <= stream.readAheadLimit + 65536)
            var received = 0
            var maxBuffered = 0
            while true {
                let bytes = try await stream.read(upTo: 4096)
                if bytes.isEmpty { break }
                received += bytes.count
                maxBuffered = max(maxBuffered, stream.bufferedCount)
                if received % (1 << 20) == 0 { try await sleep(0.001) }
            }
            #expect(received == total)
            #expect(maxBuffered <= stream.readAheadLimit + 65536)
            // The writer waited for the reader instead of queueing 16 MiB.
            #expect(report.maxQueued <= stream.writeHighWater + chunk)
            #expect(report.seconds >= 0.4)
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func peerResetMidStream() async throws {
        try await onHub {
            // The server closes without reading what the client sent: the kernel answers
            // with a reset instead of a clean end.
            let server = StreamServer(port: 0) { stream in
                _ = try await stream.readExactly(10)
                try await sleep(0.1)
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            try await stream.write([UInt8](repeating: 1, count: 10))
            try await stream.write([UInt8](repeating: 2, count: 1000))
            try await sleep(0.3)
            do {
                for _ in 0..<100 {
                    try await stream.write([UInt8](repeating: 3, count: 1000))
                    _ = try await stream.read()
                }
                Issue.record("the reset connection kept working")
            } catch let error as IOError {
                #expect(["ECONNRESET", "EPIPE"].contains(error.name))
                #expect(error.peer == "127.0.0.1:\(server.port)")
            }
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func connectTimesOutOnAFullBacklog() async throws {
        // A listener that never accepts, with the smallest backlog: once its queue is
        // full the kernel drops further SYNs, so connecting hangs until the deadline.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int in
                _ = bind(listener, raw, length)
                _ = listen(listener, 0)
                _ = getsockname(listener, raw, &length)
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        try await onHub {
            var held: [TCPStream] = []
            defer { held.forEach { $0.close() } }
            for _ in 0..<8 {
                let started = monotonicNanoseconds()
                do {
                    held.append(try await TCPStream.connect(host: "127.0.0.1", port: port, timeout: 0.3))
                } catch let error as IOError {
                    #expect(error.name == "ETIMEDOUT")
                    #expect(error.description.hasPrefix("connect 127.0.0.1:\(port): ETIMEDOUT"))
                    let seconds = Double(monotonicNanoseconds() - started) / 1e9
                    #expect(seconds >= 0.25 && seconds < 2)
                    return
                }
            }
            Issue.record("no connection attempt timed out")
        }
    }

    @Test
    func readsThatTimeOutLeaveTheStreamUsable() async throws {
        try await onHub {
            let server = StreamServer(port: 0) { stream in
                try await sleep(0.3)
                try await stream.write(Array("late".utf8))
            }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            var timeouts = 0
            while true {
                do {
                    let bytes = try await withTimeout(0.02) { try await stream.read() }
                    #expect(bytes == Array("late".utf8))
                    break
                } catch is Timeout {
                    timeouts += 1
                }
            }
            #expect(timeouts >= 3)
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func killingAReaderWakesIt() async throws {
        try await onHub {
            let server = StreamServer(port: 0) { stream in _ = try await stream.read() }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            let reader = spawn { try await stream.read() }
            try await sleep(0.05)
            reader.cancel()
            #expect(try await reader.join(timeout: 2))
            #expect(reader.error is GreenletExit)
            // The stream still works after the killed read.
            try await stream.write([1])
            #expect(try await stream.read() == [])
            stream.close()
            await server.stop(timeout: 1)
        }
    }
}

extension TCPStreamTransferTests {
    @Test
    func aTaskOffTheHubReadsAndWrites() async throws {
        let (server, stream) = try await onHub {
            let server = try startEchoServer()
            return (server, try await TCPStream.connect(host: "127.0.0.1", port: server.port))
        }
        // This test's own task runs on Swift's global executor, not on the hub thread:
        // its reads and writes take the path that hops to the hub and back.
        #expect(!Hub.isCurrent)
        for round in 0..<3 {
            try await stream.write([UInt8(round), 1, 2])
            #expect(try await stream.readExactly(3) == [UInt8(round), 1, 2])
        }
        try await stream.write([9])
        #expect(try await stream.read() == [9])
        try await onHub {
            stream.close()
            await server.stop(timeout: 1)
        }
    }
}

/// What a server handler measured, read by the test after it finished.
@Hub
final class WriterReport {
    var maxQueued = 0
    var seconds = 0.0
}
