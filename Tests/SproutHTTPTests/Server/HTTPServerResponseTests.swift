import Testing
@testable import SproutHTTP

import Glibc

@Suite("HTTPServerResponse")
struct HTTPServerResponseTests {
    @Test
    func validateRefusesWhatCouldSplitTheResponse() {
        let bad: [(HTTPServerResponse, HTTPResponseError)] = [
            (HTTPServerResponse(headers: ["X-Echo": "a\r\nSet-Cookie: evil=1"]), .invalidHeaderValue(name: "X-Echo")),
            (HTTPServerResponse(headers: ["X-Echo": "a\nb"]), .invalidHeaderValue(name: "X-Echo")),
            (HTTPServerResponse(headers: ["X-Echo": "a\rb"]), .invalidHeaderValue(name: "X-Echo")),
            (HTTPServerResponse(headers: ["X-Echo": "a\u{0}b"]), .invalidHeaderValue(name: "X-Echo")),
            (HTTPServerResponse(headers: ["X-Echo": "a\u{1b}b"]), .invalidHeaderValue(name: "X-Echo")),
            (HTTPServerResponse(headers: ["X-A\r\nSet-Cookie": "1"]), .invalidHeaderName("X-A\r\nSet-Cookie")),
            (HTTPServerResponse(headers: ["X A": "1"]), .invalidHeaderName("X A")),
            (HTTPServerResponse(headers: ["X:A": "1"]), .invalidHeaderName("X:A")),
            (HTTPServerResponse(headers: ["": "1"]), .invalidHeaderName("")),
            (HTTPServerResponse(status: 42), .invalidStatus(42)),
            (HTTPServerResponse(status: 1000), .invalidStatus(1000)),
        ]
        for (response, expected) in bad {
            #expect(throws: expected) { try response.validate() }
        }
        let fine = HTTPServerResponse(status: 299, headers: ["X-Fine": "caf\u{e9}\twith tab", "X-Empty": ""], text: "ok")
        #expect(throws: Never.self) { try fine.validate() }
    }

    /// RFC 9110's own example of an IMF-fixdate.
    @Test
    func dateLineIsAnIMFFixdate() {
        #expect(String(decoding: HTTPDateLine.format(784_111_777), as: UTF8.self) == "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
        #expect(String(decoding: HTTPDateLine.format(1_796_526_864), as: UTF8.self) == "Date: Sun, 06 Dec 2026 03:14:24 GMT\r\n")
    }
}
