import Testing
@testable import Sprout
@testable import SproutHTTP

import Glibc

struct CutShort: Error {}

/// A Sprout server with the routes the client tests need; `/bytes?N` answers the first N
/// bytes of `payload` (made by the caller off the hub: hashing and generating megabytes in
/// a debug build would stall every other test's greenlets).
@Hub
func startTestServer(payload: [UInt8] = pseudoRandomBytes(100_000, seed: 9)) throws -> HTTPServer {
    var router = HTTPRouter()
    router.add(.get, "/hello") { _ in HTTPServerResponse(text: "hello") }
    router.add(.post, "/echo") { request in HTTPServerResponse(body: request.body) }
    router.add(.get, "/bytes") { request in
        let count = min(payload.count, Int(request.query ?? "0") ?? 0)
        return HTTPServerResponse(body: Array(payload[..<count]))
    }
    router.add(.get, "/slow") { _ in
        try await sleep(10)
        return HTTPServerResponse(text: "late")
    }
    router.add(.get, "/loop") { _ in HTTPServerResponse(status: 302, headers: ["Location": "/loop"]) }
    router.add(.get, "/cut") { _ in
        HTTPServerResponse { writer in
            try await writer.write([UInt8](repeating: 7, count: 1000))
            throw CutShort()
        }
    }
    router.add(.get, "/chunks") { _ in
        HTTPServerResponse { writer in
            for index in 0..<100 { try await writer.write([UInt8](repeating: UInt8(index), count: 10_000)) }
        }
    }
    router.setFallback { request in
        // /redirect/N answers 302 to /redirect/N-1; /redirect/0 answers "arrived".
        guard request.path.hasPrefix("/redirect/"), let hops = Int(request.path.dropFirst("/redirect/".count)) else {
            return HTTPServerResponse(status: 404, text: "not found\n")
        }
        if hops == 0 { return HTTPServerResponse(text: "arrived") }
        return HTTPServerResponse(status: 302, headers: ["Location": "/redirect/\(hops - 1)"])
    }
    let server = HTTPServer(host: "127.0.0.1", port: 0, router: router)
    try server.start()
    return server
}

@Suite("HTTPClient against the Sprout server", .heavy)
struct HTTPClientTests {
    @Test
    func getAndPostWithBigBodies() async throws {
        let size = 3 << 20
        let payload = pseudoRandomBytes(size, seed: 5)
        let upload = pseudoRandomBytes(2 << 20, seed: 42)
        let (downloaded, echoed) = try await onHub { () -> ([UInt8], [UInt8]) in
            let server = try startTestServer(payload: payload)
            let client = HTTPClient()
            let base = "http://127.0.0.1:\(server.port)"
            let hello = try await client.get("\(base)/hello")
            #expect(hello.status == 200)
            #expect(hello.text == "hello")
            #expect(hello.headers["content-type"] == "text/plain; charset=utf-8")

            let download = try await client.get("\(base)/bytes?\(size)")
            #expect(download.status == 200)
            let echo = try await client.post("\(base)/echo", body: upload)
            #expect(echo.status == 200)

            let missing = try await client.get("\(base)/nothing-here")
            #expect(missing.status == 404)

            client.close()
            #expect(client.openConnections == 0)
            await server.stop(timeout: 1)
            #expect(server.connectionCount == 0)
            return (download.body, echo.body)
        }
        #expect(downloaded.count == size)
        #expect(checksum(downloaded) == checksum(payload))
        #expect(echoed.count == upload.count)
        #expect(checksum(echoed) == checksum(upload))
    }

    @Test
    func connectionsAreReusedAndLimitedPerHost() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient(configuration: .init(maxConnectionsPerHost: 3))
            let url = "http://127.0.0.1:\(server.port)/hello"
            for _ in 0..<20 { #expect(try await client.get(url).text == "hello") }
            #expect(client.openConnections == 1)
            #expect(server.connectionCount == 1)
            let burst = (0..<30).map { _ in spawn { try await client.get(url).text } }
            try await joinAll(burst, raiseError: true)
            #expect(burst.allSatisfy { $0.value == "hello" })
            #expect(client.openConnections <= 3)
            #expect(server.connectionCount <= 3)
            let closing = try await client.get(url, headers: ["Connection": "close"])
            #expect(closing.headers["Connection"] == "close")
            client.close()
            await server.stop(timeout: 1)
        }
    }

    // A pooled connection the server closes while idle leaves the client's watched set, and
    // the next request gets a fresh connection.
    @Test
    func anIdleConnectionTheServerClosesIsReplaced() async throws {
        try await onHub {
            var accepted = 0
            let server = StreamServer(host: "127.0.0.1", port: 0) { stream in
                accepted += 1
                _ = try await stream.readUntil(Array("\r\n\r\n".utf8), maxLength: 65536)
                try await stream.write(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
                try await sleep(0.1)
            }
            try server.start()
            let client = HTTPClient()
            defer { client.close() }
            let url = "http://127.0.0.1:\(server.port)/"
            #expect(try await client.get(url).text == "ok")
            #expect(client.openConnections == 1)
            try await sleep(0.3)
            #expect(try await client.get(url).text == "ok")
            #expect(accepted == 2)
            await server.stop(timeout: 1)
        }
    }

    // A host name goes through curl's resolver, which opens and closes descriptors of its own
    // (their numbers come back as request sockets); each new client resolves afresh.
    @Test
    func requestsByHostNameAllComplete() async throws {
        try await onHub {
            let server = try startTestServer()
            let url = "http://localhost:\(server.port)/hello"
            for _ in 0..<5 {
                let client = HTTPClient()
                defer { client.close() }
                let burst = (0..<10).map { _ in
                    spawn { try await client.get(url, headers: ["Connection": "close"], timeout: 5).text }
                }
                try await joinAll(burst, raiseError: true)
                #expect(burst.allSatisfy { $0.value == "hello" })
            }
            await server.stop(timeout: 1)
        }
    }

    @Test
    func redirectsAreFollowedAndBounded() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient()
            defer { client.close() }
            let base = "http://127.0.0.1:\(server.port)"
            let arrived = try await client.get("\(base)/redirect/5")
            #expect(arrived.text == "arrived")
            #expect(arrived.url == "\(base)/redirect/0")

            await #expect(throws: HTTPError.tooManyRedirects(url: "\(base)/loop")) {
                _ = try await client.get("\(base)/loop")
            }
            await #expect(throws: HTTPError.tooManyRedirects(url: "\(base)/redirect/4")) {
                _ = try await client.send(HTTPRequest(url: "\(base)/redirect/4", maxRedirects: 3))
            }
            let unfollowed = try await client.send(HTTPRequest(url: "\(base)/redirect/2", followRedirects: false))
            #expect(unfollowed.status == 302)
            #expect(unfollowed.headers["Location"] == "/redirect/1")
            await server.stop(timeout: 1)
        }
    }

    @Test
    func timeoutsAndRefusedConnectionsFailOnlyTheirRequest() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient()
            defer { client.close() }
            let base = "http://127.0.0.1:\(server.port)"
            let closedPort = try await freePort()

            let slow = spawn { try await client.get("\(base)/slow", timeout: 0.3) }
            let refused = spawn { try await client.get("http://127.0.0.1:\(closedPort)/") }
            let invalid = spawn { try await client.get("ftp://127.0.0.1/") }
            let fine = (0..<20).map { _ in spawn { try await client.get("\(base)/hello").text } }

            let started = monotonicNanoseconds()
            await #expect(throws: HTTPError.timedOut(url: "\(base)/slow")) { _ = try await slow.get() }
            let elapsed = Double(monotonicNanoseconds() - started) / 1e9
            #expect(elapsed < slack(5))
            await #expect(throws: HTTPError.connectionRefused(url: "http://127.0.0.1:\(closedPort)/")) { _ = try await refused.get() }
            await #expect(throws: HTTPError.invalidURL(url: "ftp://127.0.0.1/")) { _ = try await invalid.get() }
            for greenlet in fine { #expect(try await greenlet.get() == "hello") }
            await server.stop(timeout: 0)
        }
    }

    // Easy handles are reused without curl_easy_reset: one request's method, body, headers,
    // timeout and redirect setting must not reach the next on the same handle.
    @Test
    func nothingOfOneRequestLeaksIntoTheNext() async throws {
        try await onHub {
            let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
                if request.path == "/wait" { try await sleep(1.3) }
                if request.path == "/moved" { return HTTPServerResponse(status: 302, headers: ["Location": "/seen"]) }
                let seen = "\(request.method.rawValue) x=\(request.headers["X-One"] ?? "-") length=\(request.headers["Content-Length"] ?? "-") body=\(request.body.count)"
                return HTTPServerResponse(text: seen)
            }
            try server.start()
            let client = HTTPClient()
            defer { client.close() }
            let base = "http://127.0.0.1:\(server.port)"
            // One at a time, so each request takes the handle the one before gave back.
            let post = HTTPRequest(url: "\(base)/seen", method: .post, headers: ["X-One": "1"], body: Array("abc".utf8), timeout: 1)
            #expect(try await client.send(post).text == "POST x=1 length=3 body=3")
            #expect(try await client.get("\(base)/wait").text == "GET x=- length=- body=0")
            let head = try await client.send(HTTPRequest(url: "\(base)/seen", method: .head))
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(try await client.get("\(base)/seen").text == "GET x=- length=- body=0")
            #expect(try await client.send(HTTPRequest(url: "\(base)/seen", method: .delete)).text == "DELETE x=- length=- body=0")
            #expect(try await client.send(HTTPRequest(url: "\(base)/moved", followRedirects: false)).status == 302)
            #expect(try await client.get("\(base)/moved").text == "GET x=- length=- body=0")
            await server.stop(timeout: 0)
        }
    }

    // The client keeps a timer that fires before curl's next deadline rather than re-arming
    // it; curl names a deadline only when it changes, so the client must wait out the rest.
    @Test
    func timeoutsFireAmongRequestsThatCameAndWent() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient()
            defer { client.close() }
            let base = "http://127.0.0.1:\(server.port)"
            let long = spawn { try await client.get("\(base)/slow", timeout: 3) }
            try await sleep(0.3)
            // Finishes at once, leaving the client's timer set for one of its deadlines.
            #expect(try await client.get("\(base)/hello", timeout: 5).text == "hello")
            try await sleep(0.05)
            let started = monotonicNanoseconds()
            await #expect(throws: HTTPError.timedOut(url: "\(base)/slow")) {
                _ = try await client.get("\(base)/slow", timeout: 0.5)
            }
            let elapsed = Double(monotonicNanoseconds() - started) / 1e9
            #expect(elapsed >= 0.5 && elapsed < slack(2))
            await #expect(throws: HTTPError.timedOut(url: "\(base)/slow")) { _ = try await long.get() }
            await server.stop(timeout: 0)
        }
    }

    @Test
    func serverClosingMidBodyIsConnectionLost() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient()
            defer { client.close() }
            let url = "http://127.0.0.1:\(server.port)/cut"
            do {
                _ = try await client.get(url)
                Issue.record("a body cut short was accepted")
            } catch let error as HTTPError {
                guard case .connectionLost(let failedURL, _) = error else {
                    Issue.record("expected connectionLost, got \(error)")
                    return
                }
                #expect(failedURL == url)
            }
            #expect(try await client.get("http://127.0.0.1:\(server.port)/hello").text == "hello")
            await server.stop(timeout: 0)
        }
    }

    @Test
    func bodiesOverTheLimitAreRefused() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient(configuration: .init(maxResponseBodyBytes: 50_000))
            defer { client.close() }
            let base = "http://127.0.0.1:\(server.port)"
            #expect(try await client.get("\(base)/bytes?50000").body.count == 50_000)
            // A length over the limit is refused on sight: this server never sends the body.
            let boaster = try startCannedServer(Array("HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\nabc".utf8))
            let boasterURL = "http://127.0.0.1:\(boaster.port)/"
            await #expect(throws: HTTPError.responseTooLarge(url: boasterURL, limit: 50_000)) { _ = try await client.get(boasterURL) }
            await boaster.stop(timeout: 0)
            // A Content-Length over the limit is refused before the body; a chunked body
            // (no length) once its bytes pass the limit.
            await #expect(throws: HTTPError.responseTooLarge(url: "\(base)/bytes?50001", limit: 50_000)) {
                _ = try await client.get("\(base)/bytes?50001")
            }
            await #expect(throws: HTTPError.responseTooLarge(url: "\(base)/chunks", limit: 50_000)) {
                _ = try await client.get("\(base)/chunks")
            }
            // The request's own limit wins over the client's.
            #expect(try await client.send(HTTPRequest(url: "\(base)/chunks", maxBodyBytes: 1_000_000)).body.count == 1_000_000)
            await #expect(throws: HTTPError.responseTooLarge(url: "\(base)/bytes?100", limit: 99)) {
                _ = try await client.send(HTTPRequest(url: "\(base)/bytes?100", maxBodyBytes: 99))
            }
            // A streamed body fails in its iteration, after the bytes within the limit.
            let stream = try await client.stream(HTTPRequest(url: "\(base)/chunks"))
            var streamed = 0
            await #expect(throws: HTTPError.responseTooLarge(url: "\(base)/chunks", limit: 50_000)) {
                for try await chunk in stream.body { streamed += chunk.count }
            }
            #expect(streamed <= 50_000)
            #expect(try await client.get("\(base)/hello").text == "hello")
            await server.stop(timeout: 0)
        }
    }

    /// A server that sends part of a response and then resets the connection (SO_LINGER 0,
    /// so its close sends RST instead of FIN).
    @Test
    func aResetMidResponseIsConnectionReset() async throws {
        try await onHub {
            let server = StreamServer(host: "127.0.0.1", port: 0) { stream in
                _ = try await stream.readUntil(Array("\r\n\r\n".utf8), maxLength: 65536)
                try await stream.write(Array("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".utf8) + [UInt8](repeating: 1, count: 1000))
                // Detaching needs every queued byte taken by the kernel.
                try await stream.flush()
                let fd = try stream.detachDescriptor()
                var noLinger = linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &noLinger, socklen_t(MemoryLayout<linger>.size))
                close(fd)
            }
            try server.start()
            let client = HTTPClient()
            defer { client.close() }
            let url = "http://127.0.0.1:\(server.port)/"
            for _ in 0..<3 {
                await #expect(throws: HTTPError.connectionReset(url: url)) { _ = try await client.get(url, timeout: 10) }
            }
            await server.stop(timeout: 0)
        }
    }

    /// In a network namespace of the helper's own (`unshare -rn`: a loopback that is down
    /// and nothing else), where the name server in /etc/resolv.conf cannot be reached: the
    /// lookup fails here without sending anything off the machine. (libcurl does not
    /// treat `.invalid` specially: outside a namespace it asks the name server.)
    @Test
    func anUnresolvableNameIsCouldNotResolve() async throws {
        let helper = helperPath()
        let probe = try await onHub { try await Command("unshare", arguments: ["-rn", "true"]).output(timeout: 10) }
        if !probe.succeeded {
            try Test.cancel("unshare -rn cannot make a network namespace here: \(String(decoding: probe.standardError, as: UTF8.self))")
        }
        let run = try await onHub {
            try await Command("unshare", arguments: ["-rn", helper, "resolve", "http://nonexistent.invalid/"]).output(timeout: 30)
        }
        #expect(run.succeeded, "\(run.status): \(String(decoding: run.standardOutput + run.standardError, as: UTF8.self))")
    }

    /// A request sent from a task that is not a greenlet (an `onHub` body runs in
    /// `withTimeout`'s child task): such a task hops executors on its way into the wait for
    /// curl, and a transfer that ends during that hop — here aborted by `close()` from a
    /// greenlet after 0 to 7 turns of the hub — must still end the request, not leave it
    /// parked with nothing left to wake it.
    @Test
    func aTransferEndingWhileItsSenderHopsToParkEndsTheRequest() async throws {
        try await onHub(seconds: 20) {
            let server = StreamServer(host: "127.0.0.1", port: 0) { _ in try await sleep(30) }
            try server.start()
            for turns in 0..<8 {
                let client = HTTPClient()
                spawn {
                    for _ in 0..<turns { try await sleep(0) }
                    client.close()
                }
                // The close's failure, not the Timeout of a request left waiting.
                let url = "http://127.0.0.1:\(server.port)/"
                await expectHTTPError("failed", url: url, "aborted after \(turns) turns") {
                    _ = try await withTimeout(2) { try await client.get(url) }
                }
            }
            await server.stop(timeout: 0)
        }
    }

    @Test
    func malformedResponsesAreProtocolErrors() async throws {
        try await onHub {
            let client = HTTPClient()
            defer { client.close() }
            let replies: [String] = [
                "HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nhi",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                "SPROUT\r\n\r\n",
            ]
            for reply in replies {
                let server = try startCannedServer(Array(reply.utf8))
                let url = "http://127.0.0.1:\(server.port)/"
                await expectHTTPError("protocolError", url: url, "for \(reply)") {
                    _ = try await client.get(url, timeout: 5)
                }
                await server.stop(timeout: 0)
            }
            // No answer at all: the server closes at once.
            let silent = try startCannedServer([])
            let silentURL = "http://127.0.0.1:\(silent.port)/"
            await expectHTTPError("connectionLost", url: silentURL) { _ = try await client.get(silentURL, timeout: 5) }
            await silent.stop(timeout: 0)
        }
    }

    @Test
    func streamingBodyArrivesInChunks() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient()
            defer { client.close() }
            let response = try await client.stream(HTTPRequest(url: "http://127.0.0.1:\(server.port)/chunks"))
            #expect(response.status == 200)
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            var total = 0
            var pieces = 0
            var expected: [UInt8] = []
            for index in 0..<100 { expected += [UInt8](repeating: UInt8(index), count: 10_000) }
            var received: [UInt8] = []
            for try await chunk in response.body {
                total += chunk.count
                pieces += 1
                received += chunk
            }
            #expect(total == 1_000_000)
            #expect(pieces > 1)
            #expect(received == expected)

            let cutURL = "http://127.0.0.1:\(server.port)/cut"
            let cut = try await client.stream(HTTPRequest(url: cutURL))
            await expectHTTPError("connectionLost", url: cutURL) { _ = try await cut.body.collect() }
            await server.stop(timeout: 0)
        }
    }

    @Test
    func killedRequestLeavesTheClientClean() async throws {
        try await onHub {
            let server = try startTestServer()
            let client = HTTPClient()
            let base = "http://127.0.0.1:\(server.port)"
            let doomed = (0..<10).map { _ in spawn { try await client.get("\(base)/slow") } }
            let survivors = (0..<10).map { _ in spawn { try await client.get("\(base)/bytes?100000").body.count } }
            for greenlet in survivors { #expect(try await greenlet.get() == 100_000) }
            #expect(client.activeRequests == 10)
            for greenlet in doomed { greenlet.cancel() }
            for greenlet in doomed {
                await #expect(throws: GreenletExit.self) { _ = try await greenlet.get() }
            }
            #expect(client.activeRequests == 0)
            #expect(try await client.get("\(base)/hello").text == "hello")
            client.close()
            #expect(client.openConnections == 0)
            await server.stop(timeout: 1)
            #expect(server.connectionCount == 0)
        }
    }

    /// A thousand requests at once, each held by the server until all have arrived: they
    /// can only all be answered if the client opens a thousand connections side by side
    /// (far past the default limit of 128 per host) and the server serves them together.
    @Test
    func thousandConcurrentRequestsGoThroughAThousandConnections() async throws {
        try await onHub(seconds: 50) {
            let count = 1000 * testScale
            let gate = Gate(opensAt: count)
            var router = HTTPRouter()
            router.add(.get, "/gate") { _ in
                HTTPServerResponse(text: try await gate.arriveAndWait(timeout: slack(20)) ? "all here" : "alone")
            }
            let server = HTTPServer(host: "127.0.0.1", port: 0, router: router)
            try server.start()
            let client = HTTPClient(configuration: .init(maxConnectionsPerHost: count))
            let url = "http://127.0.0.1:\(server.port)/gate"
            let greenlets = (0..<count).map { _ in spawn { try await client.get(url, timeout: 40).text } }
            try await joinAll(greenlets, raiseError: true)
            let answers = Dictionary(grouping: greenlets.map { $0.value ?? "none" }, by: { $0 }).mapValues(\.count)
            #expect(answers == ["all here": count])
            #expect(gate.mostInside == count)
            #expect(client.activeRequests == 0)
            #expect(client.openConnections > 128)
            client.close()
            #expect(client.openConnections == 0)
            await server.stop(timeout: 1)
            #expect(server.connectionCount == 0)
        }
    }
}

/// Holds every arriving request until `opensAt` of them are inside at once.
@Hub
private final class Gate {
    private let opensAt: Int
    private let open = Event()
    private var inside = 0
    /// The most requests that were inside together.
    private(set) var mostInside = 0

    init(opensAt: Int) { self.opensAt = opensAt }

    /// Whether the gate opened within `timeout` seconds of this request's arrival.
    func arriveAndWait(timeout: Double) async throws -> Bool {
        inside += 1
        mostInside = max(mostInside, inside)
        defer { inside -= 1 }
        if inside == opensAt { open.set() }
        return try await open.wait(timeout: timeout)
    }
}
