import Testing
@testable import Sprout
@testable import SproutHTTP
import SproutTestSupport

import Glibc

/// Sends `request` on a fresh connection and reads until the server closes it.
@Hub
private func exchange(_ port: Int, _ request: String) async throws -> String {
    let stream = try await TCPStream.connect(host: "127.0.0.1", port: port, timeout: 5)
    defer { stream.close() }
    try await stream.write(Array(request.utf8))
    var answer: [UInt8] = []
    while true {
        let bytes = try await stream.read()
        if bytes.isEmpty { break }
        answer += bytes
    }
    return String(decoding: answer, as: UTF8.self)
}

@Hub
private func startEchoHTTPServer(configuration: HTTPServer.Configuration = .init()) throws -> HTTPServer {
    let server = try HTTPServer(host: "127.0.0.1", port: 0, configuration: configuration) { request in
        HTTPServerResponse(headers: ["X-Method": request.method.rawValue], body: request.body)
    }
    try server.start()
    return server
}

@Suite("HTTPServer", .heavy)
struct HTTPServerTests {
    @Test
    func keepAliveServesManyRequestsOnOneConnection() async throws {
        try await onHub {
            let server = try startEchoHTTPServer()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            for index in 0..<50 {
                let body = "request \(index)"
                try await stream.write(Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
                let head = try await stream.readUntil(Array("\r\n\r\n".utf8))
                let text = String(decoding: head, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
                #expect(text.contains("Connection: keep-alive"))
                #expect(text.contains("Content-Length: \(body.utf8.count)\r\n"))
                #expect(try await stream.readExactly(body.utf8.count) == Array(body.utf8))
            }
            #expect(server.connectionCount == 1)
            stream.close()
            await server.stop(timeout: 1)
        }
    }

    @Test
    func chunkedRequestAndStreamedResponse() async throws {
        try await onHub {
            let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
                let body = request.body
                return HTTPServerResponse { writer in
                    try await writer.write("got ")
                    try await writer.write(body)
                }
            }
            try server.start()
            let answer = try await exchange(server.port,
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(answer.contains("Transfer-Encoding: chunked\r\n"))
            #expect(answer.hasSuffix("\r\n\r\n4\r\ngot \r\nb\r\nhello world\r\n0\r\n\r\n"))
            await server.stop(timeout: 1)
        }
    }

    @Test
    func badInputIsAnsweredNotCrashedOn() async throws {
        try await onHub {
            let server = try startEchoHTTPServer(configuration: .init(maxHeadBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 1000))
            let cases: [(String, String)] = [
                ("this is not http\r\n\r\n", "HTTP/1.1 400 "),
                ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", "HTTP/1.1 413 "),
                ("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000) + "\r\n\r\n", "HTTP/1.1 431 "),
                ("GET / HTTP/3.0\r\n\r\n", "HTTP/1.1 505 "),
            ]
            for (request, expected) in cases {
                let answer = try await exchange(server.port, request)
                #expect(answer.hasPrefix(expected), "\(request.prefix(40).debugDescription) → \(answer.prefix(60).debugDescription)")
                #expect(answer.contains("Connection: close"))
            }
            // The server still serves afterwards.
            let fine = try await exchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(fine.hasPrefix("HTTP/1.1 200 OK"))
            await server.stop(timeout: 1)
        }
    }

    /// Each framing attack is answered with its status and the connection closed (the
    /// exchange ends only when the server closes), and the handler never sees it.
    @Test
    func framingAttacksAreRefusedAndTheConnectionClosed() async throws {
        try await onHub {
            let server = try startEchoHTTPServer()
            for attack in framingAttacks {
                let answer = try await exchange(server.port, attack.request)
                #expect(answer.hasPrefix("HTTP/1.1 \(attack.status) "), "\(attack.name): \(answer.prefix(60).debugDescription)")
                #expect(answer.contains("Connection: close"), "\(attack.name)")
                #expect(!answer.contains("X-Method"), "\(attack.name) reached the handler")
            }
            await server.stop(timeout: 1)
        }
    }

    /// A handler echoing request input into a header cannot split the response: nothing
    /// of it is written, the client gets 500, the operator a report.
    @Test
    func aResponseWithCRLFInAHeaderIsNeverWritten() async throws {
        try await onHub {
            let log = LogCapture()
            let server = HTTPServer(host: "127.0.0.1", port: 0, logger: log.logger(label: "sprout.http")) { request in
                HTTPServerResponse(headers: ["X-Echo": "a\r\nSet-Cookie: evil=\(request.query ?? "")"], text: "echo")
            }
            try server.start()
            let answer = try await exchange(server.port, "GET /?1 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 500 "), "\(answer.debugDescription)")
            #expect(!answer.contains("evil"))
            #expect(!answer.contains("echo"))
            let reports = log.records(containing: "cannot be sent")
            #expect(reports.count == 1 && reports[0].message.contains("X-Echo"), "\(log.records)")
            #expect(reports.first?.level == .error && reports.first?.label == "sprout.http")
            await server.stop(timeout: 1)
        }
    }

    /// Every response carries one `Date` (RFC 9110 asks it of an origin server with a
    /// clock), the current one unless the handler set its own.
    @Test
    func responsesCarryTheDate() async throws {
        try await onHub {
            let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
                request.path == "/own" ? HTTPServerResponse(headers: ["date": "Sun, 06 Nov 1994 08:49:37 GMT"], text: "own")
                    : HTTPServerResponse(text: "now")
            }
            try server.start()
            let before = time(nil)
            let answer = try await exchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let after = time(nil)
            let line = answer.split(separator: "\r\n").first { $0.hasPrefix("Date: ") }.map { String($0) + "\r\n" }
            let expected = (before...after).map { String(decoding: HTTPDateLine.format($0), as: UTF8.self) }
            #expect(line.map(expected.contains) == true, "\(answer.debugDescription)")
            let own = try await exchange(server.port, "GET /own HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(own.contains("date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"))
            #expect(!own.contains("Date: "))
            let refused = try await exchange(server.port, "GET / HTTP/1.1\r\n\r\n")
            #expect(refused.hasPrefix("HTTP/1.1 400 ") && refused.contains("\r\nDate: "))
            await server.stop(timeout: 1)
        }
    }

    @Test
    func failingHandlerIs500AndHeadHasNoBody() async throws {
        try await onHub {
            struct Broken: Error {}
            var router = HTTPRouter()
            router.add(.get, "/broken") { _ in throw Broken() }
            router.add(.get, "/page") { _ in HTTPServerResponse(text: "twelve bytes") }
            let log = LogCapture()
            let server = HTTPServer(host: "127.0.0.1", port: 0, logger: log.logger(label: "sprout.http"), router: router)
            try server.start()
            let broken = try await exchange(server.port, "GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(broken.hasPrefix("HTTP/1.1 500 "))
            let reports = log.records(containing: "/broken")
            #expect(reports.count == 1 && reports[0].message.contains("Broken"), "\(log.records)")
            #expect(reports.first?.level == .error && reports.first?.label == "sprout.http")
            let head = try await exchange(server.port, "HEAD /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200 OK"))
            #expect(head.contains("Content-Length: 12\r\n"))
            #expect(head.hasSuffix("\r\n\r\n"))
            let missing = try await exchange(server.port, "GET /nope HTTP/1.0\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404 "))
            let wrongMethod = try await exchange(server.port, "DELETE /page HTTP/1.0\r\n\r\n")
            #expect(wrongMethod.hasPrefix("HTTP/1.1 405 "))
            await server.stop(timeout: 1)
        }
    }

    @Test
    func gracefulStopClosesIdleAndFinishesBusyConnections() async throws {
        try await onHub {
            let slowStarted = Waiter<Void>()
            // The slow request finishes only when the test lets it, once the stop is under
            // way: a timed handler could finish first on a loaded machine.
            let release = Event()
            let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
                if request.path == "/slow" {
                    slowStarted.wake()
                    _ = try await release.wait(timeout: 10)
                }
                return HTTPServerResponse(text: "done")
            }
            try server.start()
            let idle = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            try await idle.write(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            _ = try await idle.readUntil(Array("done".utf8))
            let busy = spawn { try await exchange(server.port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n") }
            // Stop only once the slow request is inside its handler.
            guard case .value = await park(slowStarted, timeout: 10) else {
                Issue.record("the slow request never reached its handler")
                return
            }
            #expect(server.connectionCount == 2)
            let stopper = spawn {
                let started = monotonicNanoseconds()
                await server.stop(timeout: 5)
                return Double(monotonicNanoseconds() - started) / 1e9
            }
            // The stop closes the idle connection at once; the busy one gets its answer.
            #expect(try await idle.read() == [])
            release.set()
            #expect(try await stopper.get() < slack(4.5))
            let answer = try await busy.get()
            #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
            #expect(answer.contains("Connection: close"))
            idle.close()
            #expect(server.connectionCount == 0)
        }
    }
}

@Suite("HTTPServer with the Sprout client", .heavy)
struct HTTPServerClientTests {
    @Test
    func putWithExpectContinueRoundTrips() async throws {
        try await onHub {
            let server = try startEchoHTTPServer()
            let client = HTTPClient()
            defer { client.close() }
            let body = pseudoRandomBytes(200_000, seed: 3)
            let response = try await client.send(HTTPRequest(
                url: "http://127.0.0.1:\(server.port)/", method: .put, headers: ["Expect": "100-continue"], body: body
            ))
            #expect(response.headers["X-Method"] == "PUT")
            #expect(response.body == body)
            await server.stop(timeout: 1)
        }
    }

    @Test
    func continueIsSentBeforeTheBody() async throws {
        try await onHub {
            let server = try startEchoHTTPServer()
            let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
            defer { stream.close() }
            try await stream.write(Array("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n".utf8))
            let interim = try await stream.readUntil(Array("\r\n\r\n".utf8))
            #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
            try await stream.write(Array("body".utf8))
            let head = try await stream.readUntil(Array("\r\n\r\n".utf8))
            #expect(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"))
            #expect(try await stream.readExactly(4) == Array("body".utf8))
            await server.stop(timeout: 1)
        }
    }
}
