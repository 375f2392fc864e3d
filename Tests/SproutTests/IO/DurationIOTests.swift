import Testing
@testable import Sprout

import Glibc

/// The I/O calls' `Duration` overloads wait as long as their `Double` twins: a conversion
/// that drops the sub-second part or scales it wrongly shows in the time waited.
@Suite("Duration+IO", .heavy)
struct DurationIOTests {
    /// Runs `body` and returns its value and the seconds it took.
    @Hub private func timed<T: Sendable>(_ body: @Hub () async throws -> T) async rethrows -> (T, Double) {
        let start = monotonicNanoseconds()
        let value = try await body()
        return (value, Double(monotonicNanoseconds() - start) / 1e9)
    }

    /// Expects `body` to fail with an `ETIMEDOUT` ``IOError`` after about `seconds`.
    @Hub private func expectTimesOut(after seconds: Double, _ body: @Hub () async throws -> Void) async {
        let (_, took) = await timed {
            do {
                try await body()
                Issue.record("no timeout")
            } catch let error as IOError {
                #expect(error.name == "ETIMEDOUT", "\(error)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(took >= seconds * 0.9 && took < slack(seconds + 1.5), "took \(took) s for \(seconds) s")
    }

    @Test func descriptorsAndSocketsTakeDurations() async throws {
        try await onHub {
            var ends: [Int32] = [0, 0]
            #expect(pipe(&ends) == 0)
            defer { close(ends[0]); close(ends[1]) }
            let (ready, took) = try await self.timed { try await waitReadable(ends[0], timeout: .milliseconds(40)) }
            #expect(ready == false)
            #expect(took >= 0.036 && took < slack(1.5), "took \(took) s")
            #expect(try await waitWritable(ends[1], timeout: .seconds(1)))

            #expect(try await !getAddressInfo(host: "127.0.0.1", port: 7, timeout: .seconds(5)).isEmpty)

            let server = StreamServer { stream in _ = try await stream.read() }
            try server.start()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port, timeout: .seconds(5))
            let address = try #require(SocketAddress(host: "127.0.0.1", port: server.port))
            let second = try await TCPStream.connect(to: address, timeout: .seconds(5))
            // Both handlers wait for a read: stop gives them 50 ms, then kills them.
            let (_, stopping) = await self.timed { await server.stop(timeout: .milliseconds(50)) }
            #expect(stopping >= 0.045 && stopping < slack(1.5), "stop took \(stopping) s")
            stream.close()
            second.close()

            let path = "/tmp/sprout-duration-io-\(getpid()).sock"
            let unixServer = StreamServer(unixPath: path) { _ in }
            try unixServer.start()
            try await UnixStream.connect(path: path, timeout: .seconds(5)).close()
            await unixServer.stop(timeout: .seconds(1))

            let udp = try UDPSocket()
            defer { udp.close() }
            await self.expectTimesOut(after: 0.05) { _ = try await udp.receive(timeout: .milliseconds(50)) }
        }
    }

    @Test func commandsAndSignalsTakeDurations() async throws {
        try await onHub {
            await self.expectTimesOut(after: 0.1) {
                _ = try await Command("/bin/sleep", arguments: ["5"]).output(timeout: .milliseconds(100))
            }
            let child = try Command("/bin/sleep", arguments: ["5"]).spawn()
            await self.expectTimesOut(after: 0.05) { _ = try await child.wait(timeout: .milliseconds(50)) }
            try child.kill(SIGKILL)
            #expect(try await child.wait(timeout: .seconds(5)) == .signaled(SIGKILL))

            let signals = try Signals(SIGUSR2)
            await self.expectTimesOut(after: 0.05) { _ = try await signals.wait(timeout: .milliseconds(50)) }
            signals.close()
            await self.expectTimesOut(after: 0.05) { _ = try await Signals.wait(for: SIGUSR2, timeout: .milliseconds(50)) }
        }
    }
}
