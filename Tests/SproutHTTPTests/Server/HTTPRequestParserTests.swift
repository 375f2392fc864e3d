import Testing
import SproutHTTP

/// Feeds `text` to a fresh parser in pieces of `step` bytes and collects the requests.
private func parse(
    _ text: String,
    step: Int = .max,
    limits: HTTPRequestParser.Limits = .init()
) throws(HTTPParseError) -> [HTTPServerRequest] {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPServerRequest] = []
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + min(step, bytes.count))
        parser.append(bytes[offset..<end])
        offset = end
        while let request = try parser.next() { requests.append(request) }
    }
    return requests
}

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    @Test
    func parsesASimpleGet() throws {
        let requests = try parse("GET /search?q=sprout HTTP/1.1\r\nHost: example\r\nAccept:  text/plain \r\n\r\n")
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == .get)
        #expect(request.path == "/search")
        #expect(request.query == "q=sprout")
        #expect(request.headers["host"] == "example")
        #expect(request.headers["Accept"] == "text/plain")
        #expect(request.keepAlive)
        #expect(request.body.isEmpty)
    }

    @Test
    func pipelinedRequestsSplitAtEveryByte() throws {
        let text = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n"
            + "GET /c HTTP/1.0\r\n\r\n"
        for step in [1, 2, 3, 7, 64, Int.max] {
            let requests = try parse(text, step: step)
            #expect(requests.map(\.path) == ["/a", "/b", "/c"], "step \(step)")
            #expect(requests.map(\.text) == ["hello", "abcdefg", ""], "step \(step)")
            #expect(requests.last?.keepAlive == false)
        }
    }

    @Test
    func malformedInputIs400() {
        let cases = [
            "GET /\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "G@T / HTTP/1.1\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            " / HTTP/1.1\r\n\r\n",
            "GET / HTTX/1.1\r\n\r\n",
            "GET / HTTP/1.1x\r\n\r\n",
            "GET / HTTP/1-1\r\n\r\n",
            "GET /\u{7f} HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
        ]
        for text in cases {
            #expect(throws: HTTPParseError.self, "\(text.debugDescription)") { _ = try parse(text) }
            do {
                _ = try parse(text)
            } catch {
                #expect(error.status == 400, "\(text.debugDescription)")
            }
        }
        #expect(throws: HTTPParseError.unsupportedVersion) { _ = try parse("GET / HTTP/2.0\r\n\r\n") }
    }

    @Test
    func limitsAre413And431() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 256, maxHeaderCount: 4, maxBodyBytes: 100)
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 100)) {
            _ = try parse("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits: limits)
        }
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 100)) {
            _ = try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "x", count: 64)
                + "\r\n40\r\n", limits: limits)
        }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("GET / HTTP/1.1\r\nX: " + String(repeating: "y", count: 300) + "\r\n\r\n", step: 16, limits: limits)
        }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", limits: limits)
        }
        // Never ending head bytes are refused once past the limit, without waiting for more.
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("GET / HTTP/1.1\r\n" + String(repeating: "z", count: 400), step: 50, limits: limits)
        }
    }

    @Test
    func arbitraryBytesNeverCrash() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for _ in 0..<300 {
            var parser = HTTPRequestParser(limits: .init(maxHeadBytes: 512, maxHeaderCount: 8, maxBodyBytes: 1024))
            var bytes: [UInt8] = Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n".utf8)
            for _ in 0..<200 {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                // Mostly the bytes that matter to the grammar.
                let alphabet: [UInt8] = Array("\r\n:; 0123456789abcdefXYZ\t".utf8) + [0, 255]
                bytes.append(alphabet[Int(state % UInt64(alphabet.count))])
            }
            parser.append(bytes)
            do {
                while try parser.next() != nil {}
            } catch {
                #expect([400, 413, 431, 505].contains(error.status))
            }
        }
    }
}

@Suite("HTTPServerRequest")
struct HTTPServerRequestTests {
    @Test
    func keepAliveFollowsTheConnectionTokens() {
        func request(_ minor: Int, _ connection: String?) -> HTTPServerRequest {
            var headers = HTTPHeaders()
            if let connection { headers["Connection"] = connection }
            return HTTPServerRequest(method: .get, target: "/", minorVersion: minor, headers: headers)
        }
        #expect(request(1, nil).keepAlive)
        #expect(!request(1, "close").keepAlive)
        #expect(!request(1, "Upgrade, CLOSE").keepAlive)
        #expect(request(1, "closed").keepAlive)
        #expect(request(1, "keep-alive").keepAlive)
        #expect(!request(0, nil).keepAlive)
        #expect(request(0, "Keep-Alive").keepAlive)
        #expect(request(0, " keep-alive , upgrade").keepAlive)
        #expect(!request(0, "keep-alive-ish").keepAlive)
    }

    @Test
    func continueIsOwedOnlyWhileTheBodyIsMissing() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        let owed = parser.takeContinueRequest()
        let owedTwice = parser.takeContinueRequest()
        #expect(owed)
        #expect(!owedTwice)
        parser.append(Array("hello".utf8))
        #expect(try parser.next()?.text == "hello")

        parser.append(Array("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi".utf8))
        #expect(try parser.next()?.text == "hi")
        let owedWithBody = parser.takeContinueRequest()
        #expect(!owedWithBody)
    }
}
