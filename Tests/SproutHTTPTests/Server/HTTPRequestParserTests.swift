import Testing
import SproutHTTP

import Glibc

/// What a parser made of some bytes: the requests it returned and the error that ended
/// it, comparable across ways of splitting the same bytes.
private struct Outcome: Equatable, CustomStringConvertible {
    var requests: [String] = []
    var error: HTTPParseError?

    var description: String { "\(requests) \(error.map { "\($0)" } ?? "no error")" }
}

private func summary(_ request: HTTPServerRequest) -> String {
    "\(request.method.rawValue) \(request.target) 1.\(request.minorVersion) \(request.headers.map { "\($0.name)=\($0.value)" }) "
        + "\(request.body)"
}

/// Feeds `bytes` to a fresh parser in the pieces `cuts` (ascending offsets) make.
private func outcome(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPRequestParser.Limits = .init()) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var result = Outcome()
    var start = 0
    for end in cuts + [bytes.count] where end >= start {
        parser.append(bytes[start..<end])
        start = end
        do {
            while let request = try parser.next() { result.requests.append(summary(request)) }
        } catch {
            result.error = error
            return result
        }
    }
    return result
}

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

/// A request-smuggling or framing attack and the status it must be refused with.
struct FramingAttack: Sendable, CustomTestStringConvertible {
    let name: String
    let request: String
    let status: Int
    var testDescription: String { name }
}

/// The attacks of issue 14 (the first six were answered 200 before), then the rest of
/// RFC 9112's framing rules.
let framingAttacks: [FramingAttack] = [
    .init(name: "sign in Content-Length", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", status: 400),
    .init(name: "gzip before chunked", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501),
    .init(name: "Transfer-Encoding on HTTP/1.0", request: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
    .init(name: "whitespace inside a chunk size", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n"
        + String(repeating: "a", count: 16) + "\r\n0\r\n\r\n", status: 400),
    .init(name: "HTTP/1.1 without Host", request: "GET / HTTP/1.1\r\n\r\n", status: 400),
    .init(name: "two Host fields", request: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
    .init(name: "differing Content-Length", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", status: 400),
    .init(name: "Content-Length with Transfer-Encoding",
          request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
    .init(name: "coding list not ending in chunked", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400),
    .init(name: "chunked twice", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          status: 400),
    .init(name: "chunk size overflow", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "10000000000000000000000000001\r\na\r\n0\r\n\r\n", status: 413),
    .init(name: "obs-fold", request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", status: 400),
    .init(name: "whitespace before a colon", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello", status: 400),
    .init(name: "CR inside a value", request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", status: 400),
    .init(name: "LF inside a value", request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n", status: 400),
    .init(name: "NUL inside a value", request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", status: 400),
    .init(name: "chunk extension beyond the line limit", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;"
        + String(repeating: "e", count: 2000) + "\r\na\r\n0\r\n\r\n", status: 400),
    .init(name: "control byte in a chunk extension", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a\u{1}\r\na\r\n0\r\n\r\n",
          status: 400),
    .init(name: "trailers beyond the head limit", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        + String(repeating: "X-T: " + String(repeating: "t", count: 100) + "\r\n", count: 200) + "\r\n", status: 431),
    .init(name: "bad byte in a trailer", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\u{0}\r\n\r\n", status: 400),
    .init(name: "huge Content-Length", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\n", status: 413),
    .init(name: "HTTP/2.0 request line", request: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", status: 505),
]

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
        let text = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n"
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
            "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
            "G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
            " / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTX/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1x\r\nHost: x\r\n\r\n",
            "GET / HTTP/1-1\r\nHost: x\r\n\r\n",
            "GET /\u{7f} HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /\u{e9} HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n;a\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n folded: x\r\n\r\n",
        ]
        for text in cases {
            let result = outcome(Array(text.utf8))
            #expect(result.error?.status == 400, "\(text.debugDescription): \(result)")
        }
    }

    /// A head whose lines end in a bare LF is refused as soon as the LF arrives, not left
    /// waiting for a CRLF CRLF that such a client never sends (it would hang until the
    /// head deadline); whole or byte by byte alike.
    @Test
    func aBareLFInTheHeadIs400AtOnce() {
        let cases = [
            "GET / HTTP/1.1\nHost: x\n\n",
            "GET / HTTP/1.1\r\nHost: x\n",
            "\nGET / HTTP/1.1\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\n",
        ]
        for text in cases {
            let bytes = Array(text.utf8)
            #expect(outcome(bytes).error == .badRequest("LF without CR in the request head"), "\(text.debugDescription)")
            #expect(outcome(bytes, cuts: Array(0..<bytes.count)) == outcome(bytes), "\(text.debugDescription) byte by byte")
        }
    }

    @Test(arguments: framingAttacks)
    func framingAttackIsRefused(_ attack: FramingAttack) {
        let bytes = Array(attack.request.utf8)
        let whole = outcome(bytes)
        #expect(whole.requests.isEmpty, "\(whole)")
        #expect(whole.error?.status == attack.status, "\(whole)")
        #expect(outcome(bytes, cuts: Array(1..<bytes.count)) == whole, "byte by byte")
    }

    /// Still accepted, because RFC 9112 allows them: identical duplicate lengths, a Host
    /// on HTTP/1.0 or none there, empty list elements, extensions, a 1.x minor version.
    @Test
    func whatTheRulesAllowIsAccepted() throws {
        let cases = [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
            "GET / HTTP/1.0\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost:\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , Chunked\r\n\r\n2;name=\"v a\";x\r\nab\r\n0\r\nT: v\r\n\r\n",
            "GET / HTTP/1.9\r\nhOsT: x\r\nX-Obs: caf\u{e9}\t\r\n\r\n",
        ]
        for text in cases {
            let requests = try parse(text)
            #expect(requests.count == 1, "\(text.debugDescription)")
        }
    }

    @Test
    func limitsAre413And431() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 256, maxHeaderCount: 4, maxBodyBytes: 100)
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 100)) {
            _ = try parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", limits: limits)
        }
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 100)) {
            _ = try parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "x", count: 64)
                + "\r\n40\r\n", limits: limits)
        }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("GET / HTTP/1.1\r\nX: " + String(repeating: "y", count: 300) + "\r\n\r\n", step: 16, limits: limits)
        }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("GET / HTTP/1.1\r\nHost: x\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", limits: limits)
        }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
                          limits: limits)
        }
        // Never ending head bytes are refused once past the limit, without waiting for more.
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            _ = try parse("GET / HTTP/1.1\r\n" + String(repeating: "z", count: 400), step: 50, limits: limits)
        }
    }

    /// The fuzzer's find (FuzzHTTPRequest, 2026-12-07): a head of exactly the limit whose
    /// CRLF CRLF arrives in two pieces was refused as too large before its end came, while
    /// the same bytes whole were parsed (here, refused for its request line).
    @Test
    func aHeadOfTheLimitWhoseEndIsCutShortIsNotRefusedEarly() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 64, maxHeaderCount: 4, maxBodyBytes: 0)
        let start = "GET / HTTP/1.1\r\nHost: "
        let head = start + String(repeating: "v", count: 64 - start.utf8.count)
        let bytes = Array((head + "\r\n\r\n").utf8)
        #expect(head.utf8.count == 64)
        for cut in 65..<bytes.count {
            let split = outcome(bytes, cuts: [cut], limits: limits)
            #expect(split.error == nil && split.requests.count == 1, "cut at \(cut): \(split)")
        }
        // One byte more is too large, however it is cut.
        let over = Array(("X" + head + "\r\n\r\n").utf8)
        for cut in 60..<over.count {
            #expect(outcome(over, cuts: [cut], limits: limits).error == .headersTooLarge(limit: 64), "cut at \(cut)")
        }
    }

    /// Valid requests and attacks, mutated at random (bytes flipped, inserted, removed,
    /// lines repeated), each parsed whole and at random split points: the two agree, every
    /// error is one the server answers, and the mutations reach both successes and the
    /// parser's refusals (which random bytes alone almost never do).
    @Test
    func mutatedRequestsAgreeWholeAndSplitAndReachTheErrorPaths() {
        let seed = testSeed()
        var generator = SplitMix64(seed: seed)
        func random(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &generator) }
        let seeds = [
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;e=1\r\ndefg\r\n0\r\nT: x\r\n\r\nGET / HTTP/1.0\r\n\r\n",
            "GET /c?q=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        ] + framingAttacks.map(\.request)
        let grammar = Array("\r\n:; \t,0123456789abcdefHTP/.-+".utf8) + [0, 0x7f, 0xff]
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 512, maxHeaderCount: 8, maxBodyBytes: 1024)
        var reasons = Set<String>()
        var accepted = 0
        for _ in 0..<3_000 {
            var bytes = Array(seeds[random(seeds.count)].utf8)
            for _ in 0...random(3) {
                let at = random(bytes.count)
                switch random(4) {
                case 0: bytes[at] = grammar[random(grammar.count)]
                case 1: bytes.insert(grammar[random(grammar.count)], at: at)
                case 2: bytes.remove(at: at)
                default:
                    let end = min(bytes.count, at + random(40))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
                if bytes.isEmpty { bytes = [13] }
            }
            let whole = outcome(bytes, limits: limits)
            let cuts = (0..<random(6)).map { _ in random(bytes.count + 1) }.sorted()
            let split = outcome(bytes, cuts: cuts, limits: limits)
            #expect(split == whole, "seed \(seed): \(String(decoding: bytes, as: UTF8.self).debugDescription) cut at \(cuts)")
            if let error = whole.error {
                #expect([400, 413, 431, 501, 505].contains(error.status))
                reasons.insert(error.description)
            } else if !whole.requests.isEmpty {
                accepted += 1
            }
        }
        #expect(accepted > 100, "seed \(seed): \(accepted) accepted")
        #expect(reasons.count >= 20, "seed \(seed): only \(reasons.sorted())")
    }

    /// A large head fed one byte at a time takes time linear in its size: each byte is
    /// looked at a bounded number of times, so the byte-by-byte parse stays within a fixed
    /// factor of the whole one (a search restarting from the head's start takes minutes).
    /// Heavy: it times the parser, which neighbours running beside it would slow.
    @Test(.heavy)
    func aLargeHeadFedByteByByteTakesLinearTime() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 1 << 20, maxHeaderCount: 10_000, maxBodyBytes: 0)
        var text = "GET / HTTP/1.1\r\nHost: x\r\n"
        for index in 0..<4_000 { text += "X-Field-\(index): " + String(repeating: "v", count: 50) + "\r\n" }
        let bytes = Array((text + "\r\n").utf8)

        func seconds(_ body: () -> Void) -> Double {
            var start = timespec()
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            body()
            clock_gettime(CLOCK_MONOTONIC, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        }
        var fields = 0
        let whole = seconds {
            var parser = HTTPRequestParser(limits: limits)
            parser.append(bytes)
            fields = (try? parser.next())??.headers.count ?? 0
        }
        #expect(fields == 4_001)
        var found = 0
        let byteByByte = seconds {
            var parser = HTTPRequestParser(limits: limits)
            for index in bytes.indices {
                parser.append(bytes[index...index])
                if (try? parser.next()) ?? nil != nil { found += 1 }
            }
        }
        #expect(found == 1)
        // One call per byte costs more than a byte of a whole parse, by a constant factor.
        #expect(byteByByte < whole * 200 + slack(2), "\(bytes.count) bytes: whole \(whole) s, byte by byte \(byteByByte) s")
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
        parser.append(Array("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        let owed = parser.takeContinueRequest()
        let owedTwice = parser.takeContinueRequest()
        #expect(owed)
        #expect(!owedTwice)
        parser.append(Array("hello".utf8))
        #expect(try parser.next()?.text == "hello")

        parser.append(Array("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi".utf8))
        #expect(try parser.next()?.text == "hi")
        let owedWithBody = parser.takeContinueRequest()
        #expect(!owedWithBody)
    }
}
