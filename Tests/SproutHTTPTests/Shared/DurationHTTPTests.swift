@testable import Sprout
import SproutHTTP
import Testing

/// The HTTP calls' `Duration` overloads wait as long as their `Double` twins.
@Suite("Duration+HTTP", .heavy)
struct DurationHTTPTests {
    @Test func aGetAndAStopTakeDurations() async throws {
        try await onHub {
            // A server that accepts and never answers.
            let silent = StreamServer { _ in try await sleep(30) }
            try silent.start()
            let url = "http://127.0.0.1:\(silent.port)/"
            let client = HTTPClient()
            let start = monotonicNanoseconds()
            await #expect(throws: HTTPError.timedOut(url: url)) { _ = try await client.get(url, timeout: .milliseconds(200)) }
            let took = Double(monotonicNanoseconds() - start) / 1e9
            #expect(took >= 0.18 && took < slack(2), "timed out after \(took) s")
            client.close()
            await silent.stop(timeout: .milliseconds(50))

            // A request in progress that would take 30 s: stop gives it 50 ms.
            let server = HTTPServer { _ in
                try await sleep(30)
                return HTTPServerResponse(text: "late")
            }
            try server.start()
            let slowClient = HTTPClient()
            let request = spawn { try await slowClient.get("http://127.0.0.1:\(server.port)/", timeout: 10) }
            try await sleep(0.2)
            let stopStart = monotonicNanoseconds()
            await server.stop(timeout: .milliseconds(50))
            let stopping = Double(monotonicNanoseconds() - stopStart) / 1e9
            #expect(stopping >= 0.045 && stopping < slack(1.5), "stop took \(stopping) s")
            _ = try? await request.get()
            slowClient.close()
        }
    }
}
