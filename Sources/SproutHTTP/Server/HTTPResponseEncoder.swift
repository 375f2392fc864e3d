import Sprout

/// Serialises response heads and chunks to HTTP/1.1 bytes.
enum HTTPResponseEncoder {
    /// Appends the status line and headers for `response`, and the `date` line unless it
    /// has a `Date`; the body framing is a `Content-Length` of `contentLength` or, when
    /// `nil`, chunked. Each field is checked as it is copied (one pass over its bytes); a
    /// response that cannot be sent throws, leaving `out` part-written for the caller to
    /// discard, so none of it reaches the peer.
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
            appendStatic("HTTP/1.1 200 OK\r\n", to: &out)
        } else {
            guard (100...999).contains(response.status) else { throw .invalidStatus(response.status) }
            out.append(contentsOf: "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n".utf8)
        }
        var hasDate = false
        for field in response.headers {
            // Through each string's contiguous UTF-8, checked and copied in one pass: this
            // runs for every header of every response.
            var name = field.name
            let kind = name.withUTF8 { bytes in
                let kind = ResponseFieldKind(name: bytes)
                if kind == .date || kind == .other {
                    out.append(contentsOf: bytes)
                    out.append(UInt8(ascii: ":"))
                    out.append(UInt8(ascii: " "))
                }
                return kind
            }
            if kind == .invalid { throw .invalidHeaderName(field.name) }
            var value = field.value
            let valueIsClean = value.withUTF8 { bytes in
                for byte in bytes where !isFieldValueByte(byte) { return false }
                if kind != .framing {
                    out.append(contentsOf: bytes)
                    out.append(13)
                    out.append(10)
                }
                return true
            }
            if !valueIsClean { throw .invalidHeaderValue(name: field.name) }
            if kind == .date { hasDate = true }
        }
        // A handler's own Date wins; otherwise the server's clock gives one.
        if !hasDate { date.append(to: &out) }
        if let contentLength {
            appendStatic("Content-Length: ", to: &out)
            DecimalText.append(contentLength, to: &out)
            out.append(13)
            out.append(10)
        } else {
            appendStatic("Transfer-Encoding: chunked\r\n", to: &out)
        }
        appendStatic(keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n", to: &out)
    }

    /// Appends a whole response the server makes itself (a refusal, a 500): a text body,
    /// and the connection closed after it.
    static func encodeError(status: Int, message: String, headOnly: Bool, date: inout HTTPDateLine, into out: inout [UInt8]) {
        out.append(contentsOf: "HTTP/1.1 \(status) \(reasonPhrase(status))\r\nContent-Type: text/plain; charset=utf-8\r\n".utf8)
        date.append(to: &out)
        appendStatic("Content-Length: ", to: &out)
        DecimalText.append(message.utf8.count, to: &out)
        out.append(13)
        out.append(10)
        appendStatic("Connection: close\r\n\r\n", to: &out)
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

    /// Appends a constant's bytes. A `StaticString` lives in the binary: no lazy global to
    /// check and no array to retain, as a `static let` array would need on every response.
    private static func appendStatic(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
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

/// What a response header's name means to the encoder.
private enum ResponseFieldKind {
    /// Not a token: the response cannot be sent.
    case invalid
    /// `Content-Length`, `Transfer-Encoding`, `Connection`: the server writes its own.
    case framing
    /// `Date`: the handler's own replaces the server's.
    case date
    case other

    /// The kind of `name`, checked to be a token; special names are told by length first.
    init(name: UnsafeBufferPointer<UInt8>) {
        guard !name.isEmpty else { self = .invalid; return }
        for byte in name where !isTokenByte(byte) {
            self = .invalid
            return
        }
        let bytes = name[...]
        switch name.count {
        case 4 where equalsIgnoringCase(bytes, "date"): self = .date
        case 10 where equalsIgnoringCase(bytes, "connection"),
             14 where equalsIgnoringCase(bytes, "content-length"),
             17 where equalsIgnoringCase(bytes, "transfer-encoding"):
            self = .framing
        default: self = .other
        }
    }
}
