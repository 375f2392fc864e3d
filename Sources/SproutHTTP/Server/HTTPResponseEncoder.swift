import Sprout

/// Serialises response heads and chunks to HTTP/1.1 bytes.
enum HTTPResponseEncoder {
    /// Appends the status line and headers for `response`, and the `date` line unless it
    /// has a `Date`; the body framing is a `Content-Length` of `contentLength` or, when
    /// `nil`, chunked. Each field is checked as it is copied, so a response that cannot be
    /// sent is refused before any of it leaves `out`.
    ///
    /// - Throws: what ``HTTPServerResponse/validate()`` throws.
    static func encodeHead(
        _ response: HTTPServerResponse,
        contentLength: Int?,
        keepAlive: Bool,
        date: inout HTTPDateLine,
        into out: inout [UInt8]
    ) throws(HTTPResponseError) {
        if response.status == 200 {
            out.append(contentsOf: okStatusLine)
        } else {
            guard (100...999).contains(response.status) else { throw .invalidStatus(response.status) }
            out.append(contentsOf: "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n".utf8)
        }
        var hasDate = false
        for field in response.headers {
            try check(field)
            if field.name.caseInsensitiveEquals("Content-Length") || field.name.caseInsensitiveEquals("Transfer-Encoding")
                || field.name.caseInsensitiveEquals("Connection") {
                continue
            }
            if field.name.utf8.count == 4 && field.name.caseInsensitiveEquals("Date") { hasDate = true }
            appendUTF8(field.name, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            appendUTF8(field.value, to: &out)
            out.append(13)
            out.append(10)
        }
        // A handler's own Date wins; otherwise the server's clock gives one.
        if !hasDate { date.append(to: &out) }
        if let contentLength {
            out.append(contentsOf: contentLengthPrefix)
            appendDecimal(contentLength, to: &out)
            out.append(13)
            out.append(10)
        } else {
            out.append(contentsOf: chunkedLine)
        }
        out.append(contentsOf: keepAlive ? keepAliveEnd : closeEnd)
    }

    /// Appends a whole response the server makes itself (a refusal, a 500): a text body,
    /// and the connection closed after it.
    static func encodeError(status: Int, message: String, headOnly: Bool, date: inout HTTPDateLine, into out: inout [UInt8]) {
        out.append(contentsOf: "HTTP/1.1 \(status) \(reasonPhrase(status))\r\nContent-Type: text/plain; charset=utf-8\r\n".utf8)
        date.append(to: &out)
        out.append(contentsOf: contentLengthPrefix)
        appendDecimal(message.utf8.count, to: &out)
        out.append(13)
        out.append(10)
        out.append(contentsOf: closeEnd)
        if !headOnly { out.append(contentsOf: message.utf8) }
    }

    /// Checks one header field: a token for a name, no control byte but HTAB in a value.
    ///
    /// - Throws: ``HTTPResponseError/invalidHeaderName(_:)`` or
    ///   ``HTTPResponseError/invalidHeaderValue(name:)``.
    static func check(_ field: (name: String, value: String)) throws(HTTPResponseError) {
        var name = field.name
        let nameIsToken = name.withUTF8 { bytes in
            guard !bytes.isEmpty else { return false }
            for byte in bytes where !isTokenByte(byte) { return false }
            return true
        }
        guard nameIsToken else { throw .invalidHeaderName(field.name) }
        var value = field.value
        let valueIsClean = value.withUTF8 { bytes in
            for byte in bytes where !isFieldValueByte(byte) { return false }
            return true
        }
        guard valueIsClean else { throw .invalidHeaderValue(name: field.name) }
    }

    private static let contentLengthPrefix = Array("Content-Length: ".utf8)
    private static let chunkedLine = Array("Transfer-Encoding: chunked\r\n".utf8)
    private static let keepAliveEnd = Array("Connection: keep-alive\r\n\r\n".utf8)
    private static let closeEnd = Array("Connection: close\r\n\r\n".utf8)

    /// Appends `text`'s UTF-8 through its contiguous storage, several times faster than
    /// appending its `utf8` view (this runs for every header of every response).
    private static func appendUTF8(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    private static let okStatusLine = Array("HTTP/1.1 200 OK\r\n".utf8)

    /// Appends the decimal digits of a non-negative `value` without building a String
    /// (this runs for every response).
    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = max(0, value)
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Appends one chunk of a chunked body (nothing for an empty chunk, which would end it).
    static func encodeChunk(_ bytes: [UInt8], into out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        out.append(contentsOf: String(bytes.count, radix: 16).utf8)
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\r\n".utf8)
    }

    /// The last chunk of a chunked body.
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// The standard reason phrase for `status`.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
