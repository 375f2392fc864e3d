import Glibc

/// An incremental HTTP/1.x request parser: feed it bytes as they arrive with
/// ``append(_:)``, take complete requests with ``next()``. Pipelined requests come out
/// one by one. Pure Swift, no I/O, so it is tested (and fuzzed) on bytes alone.
///
/// It follows RFC 9112 strictly, because a request two parsers frame differently (this
/// server and a proxy in front of it) is a request-smuggling hole: anything but digits in
/// `Content-Length`, differing lengths, a length beside `Transfer-Encoding`, a coding list
/// that does not end in a single `chunked`, `Transfer-Encoding` on HTTP/1.0, a chunk size
/// with whitespace or beyond the limit, an HTTP/1.1 request without exactly one `Host`,
/// obs-fold, whitespace before a colon, control bytes in a value, and chunk extensions or
/// trailers that are too long or hold bad bytes are each a ``HTTPParseError``, never a
/// crash.
///
/// Work is linear in the input however it is split: the searches for a head's end and a
/// line's end resume where the last call stopped, and a head is parsed once, when whole.
package struct HTTPRequestParser: Sendable {
    /// Limits on what one request may carry (a validated ``HTTPServer/Configuration``
    /// keeps them within `0...HTTPServer.Configuration.largestBodyLimit`).
    package struct Limits: Sendable {
        /// Bytes allowed for the request line and headers together, and again for the
        /// trailer fields (431 beyond).
        package var maxHeadBytes: Int
        /// Header fields allowed, and trailer fields (431 beyond).
        package var maxHeaderCount: Int
        /// Body bytes allowed, declared or chunked (413 beyond).
        package var maxBodyBytes: Int

        /// Limits; the defaults are ``HTTPServer/Configuration``'s.
        package init(maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 16 * 1024 * 1024) {
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// Bytes allowed in one chunk-size line, extensions included.
    package static let maxChunkLineBytes = 1024

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    /// The limits this parser enforces.
    package let limits: Limits
    private var buffer: [UInt8] = []
    private var position = 0
    /// Where the search for the end of the current head or line resumes: every index
    /// before it has been looked at.
    private var scanned = 0
    private var state = State.head
    private var pending: HTTPServerRequest?
    private var continueOwed = false
    /// Bytes of chunk extensions and of trailer fields in the current request, and the
    /// trailer fields' count: each is bounded like the head.
    private var extensionBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0

    /// A parser with `limits`.
    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Adds received bytes; an array read off the wire becomes the buffer as it is when
    /// everything before it was consumed (the common case: one request per read).
    package mutating func append(_ bytes: [UInt8]) {
        if position == buffer.count {
            buffer = bytes
            position = 0
            scanned = 0
        } else {
            append(bytes[...])
        }
    }

    /// Adds received bytes.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
            scanned = 0
        } else if position > 65_536 && position > buffer.count / 2 {
            // Moves at most as many bytes as were consumed: linear overall.
            buffer.removeSubrange(0..<position)
            scanned -= position
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// True once per request whose head asked for `Expect: 100-continue` while its body has
    /// not fully arrived: the server then sends `100 Continue` so the client sends the body.
    package mutating func takeContinueRequest() -> Bool {
        defer { continueOwed = false }
        return continueOwed
    }

    /// True until a request's head is complete; false while its body is read.
    package var isReadingHead: Bool {
        if case .head = state { return true }
        return false
    }

    /// True when bytes of an unfinished request are buffered (a peer closing now cut it short).
    package var hasPartialRequest: Bool {
        if case .head = state { return position < buffer.count }
        return true
    }

    /// The next complete request, or `nil` until more bytes arrive.
    ///
    /// - Throws: ``HTTPParseError`` for malformed or oversized input; the parser is then
    ///   unusable (the connection should be answered and closed).
    package mutating func next() throws(HTTPParseError) -> HTTPServerRequest? {
        while true {
            switch state {
            case .head:
                guard let end = try findHeadEnd() else {
                    // A head of maxHeadBytes may still end in the next bytes (its CRLF CRLF
                    // cut short): too large only once that end can no longer come.
                    if buffer.count - position >= limits.maxHeadBytes + 4 { throw .headersTooLarge(limit: limits.maxHeadBytes) }
                    return nil
                }
                if end - position > limits.maxHeadBytes { throw .headersTooLarge(limit: limits.maxHeadBytes) }
                let start = position
                let (request, framing) = try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                    try parseHead(UnsafeBufferPointer(rebasing: bytes[start..<end]))
                }
                position = end + 4
                scanned = position
                pending = request
                switch framing {
                case .none: return finishRequest()
                case .length(let length):
                    if length == 0 { return finishRequest() }
                    continueOwed = expectsContinue(request) && buffer.count - position < length
                    state = .fixedBody(remaining: length)
                case .chunked:
                    continueOwed = expectsContinue(request) && position == buffer.count
                    extensionBytes = 0
                    trailerBytes = 0
                    trailerCount = 0
                    state = .chunkSize
                }
            case .fixedBody(let remaining):
                // The body grows with the bytes received, never ahead of them.
                let take = min(remaining, buffer.count - position)
                if take == 0 { return nil }
                pending!.body.append(contentsOf: buffer[position..<position + take])
                position += take
                scanned = position
                if take == remaining { return finishRequest() }
                state = .fixedBody(remaining: remaining - take)
            case .chunkSize:
                guard let lineEnd = try findLineEnd(limit: Self.maxChunkLineBytes, tooLong: .badRequest("chunk size line too long")) else {
                    return nil
                }
                let size = try parseChunkLine(from: position, to: lineEnd, received: pending!.body.count)
                position = lineEnd + 2
                scanned = position
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - position)
                if take == 0 { return nil }
                pending!.body.append(contentsOf: buffer[position..<position + take])
                position += take
                scanned = position
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                if buffer.count - position < 2 { return nil }
                guard buffer[position] == 13, buffer[position + 1] == 10 else { throw .badRequest("chunk not followed by CRLF") }
                position += 2
                scanned = position
                state = .chunkSize
            case .trailers:
                let allowed = limits.maxHeadBytes - trailerBytes
                guard let lineEnd = try findLineEnd(limit: allowed, tooLong: .headersTooLarge(limit: limits.maxHeadBytes)) else {
                    return nil
                }
                let start = position
                position = lineEnd + 2
                scanned = position
                if lineEnd == start { return finishRequest() }
                trailerBytes += lineEnd - start + 2
                if trailerBytes > limits.maxHeadBytes { throw .headersTooLarge(limit: limits.maxHeadBytes) }
                trailerCount += 1
                if trailerCount > limits.maxHeaderCount { throw .headersTooLarge(limit: limits.maxHeadBytes) }
                // Trailer fields are checked like header fields, then dropped.
                try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                    _ = try parseField(UnsafeBufferPointer(rebasing: bytes[start..<lineEnd])[...])
                }
            }
        }
    }

    private func expectsContinue(_ request: HTTPServerRequest) -> Bool {
        request.minorVersion >= 1 && request.headers["Expect"]?.caseInsensitiveEquals("100-continue") == true
    }

    private mutating func finishRequest() -> HTTPServerRequest? {
        continueOwed = false
        state = .head
        defer { pending = nil }
        return pending
    }

    private enum Framing { case none, length(Int), chunked }

    /// The index of the CRLF CRLF ending the head that starts at `position`, searching
    /// on from `scanned`; only the first `maxHeadBytes + 4` bytes need searching.
    ///
    /// - Throws: ``HTTPParseError/badRequest(_:)`` for an LF without its CR: a head's lines
    ///   end in CRLF only (RFC 9112 lets a recipient take a bare LF as a line end, and two
    ///   parsers that differ on it frame requests differently), so a client sending bare
    ///   LFs is answered at once instead of waiting for a head end that never comes.
    private mutating func findHeadEnd() throws(HTTPParseError) -> Int? {
        let stop = min(buffer.count, position + limits.maxHeadBytes + 4)
        let from = max(position, scanned)
        let start = position
        let (found, resume) = buffer.withUnsafeBufferPointer { bytes -> (Int?, Int) in
            guard let base = bytes.baseAddress else { return (nil, from) }
            // Jumps from LF to LF with memchr (vectorised; a head has few lines), looking
            // back from each: every LF is examined once, however the input is split.
            var index = from
            while index < stop, let hit = memchr(base + index, 10, stop - index) {
                let lf = base.distance(to: UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)))
                if lf == start || bytes[lf - 1] != 13 { return (lf, -1) }
                if lf - 3 >= start && bytes[lf - 2] == 10 && bytes[lf - 3] == 13 { return (lf - 3, lf - 3) }
                index = lf + 1
            }
            return (nil, stop)
        }
        if resume < 0 { throw .badRequest("LF without CR in the request head") }
        scanned = resume
        return found
    }

    /// The index of the CRLF ending the line at `position`, searching on from `scanned`;
    /// `tooLong` once the line passes `limit` bytes without one.
    private mutating func findLineEnd(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Int? {
        var index = max(position, scanned)
        while index + 1 < buffer.count {
            if buffer[index] == 13 && buffer[index + 1] == 10 { return index }
            index += 1
        }
        scanned = index
        if index - position > limit { throw tooLong }
        return nil
    }

    /// The size in a chunk-size line (hex digits only), after checking its extensions;
    /// `received` body bytes have come before it.
    private mutating func parseChunkLine(from start: Int, to end: Int, received: Int) throws(HTTPParseError) -> Int {
        if end - start > Self.maxChunkLineBytes { throw .badRequest("chunk size line too long") }
        var size = 0
        var index = start
        // With the body limit at most 2^40, `size` never exceeds 2^44 + 15: no overflow.
        let allowed = limits.maxBodyBytes - received
        while index < end, let digit = hexValue(buffer[index]) {
            size = size * 16 + digit
            if size > allowed { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            index += 1
        }
        if index == start { throw .badRequest("missing chunk size") }
        guard index == end || buffer[index] == UInt8(ascii: ";") else { throw .badRequest("bad chunk size") }
        // chunk-ext: length bounded per line and per request; no control bytes but HTAB.
        extensionBytes += end - index
        if extensionBytes > limits.maxHeadBytes { throw .badRequest("chunk extensions too long") }
        while index < end {
            if !isFieldValueByte(buffer[index]) { throw .badRequest("bad byte in chunk extension") }
            index += 1
        }
        return size
    }

    /// Parses a request head (without its final CRLF CRLF). Works on the buffer's memory
    /// and compares bytes by hand: this runs for every request.
    private func parseHead(_ head: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> (HTTPServerRequest, Framing) {
        var lines = HeadLines(head: head)
        guard let requestLine = lines.next() else { throw .badRequest("empty request") }
        // METHOD SP TARGET SP VERSION, with exactly two spaces.
        guard let firstSpace = requestLine.firstIndex(of: 32),
              let secondSpace = requestLine[(firstSpace + 1)...].firstIndex(of: 32),
              !requestLine[(secondSpace + 1)...].contains(32) else {
            throw .badRequest("malformed request line")
        }
        let methodBytes = requestLine[..<firstSpace]
        let target = requestLine[(firstSpace + 1)..<secondSpace]
        let version = requestLine[(secondSpace + 1)...]
        guard !methodBytes.isEmpty, !target.isEmpty, methodBytes.allSatisfy(isTokenByte) else {
            throw .badRequest("malformed request line")
        }
        let v = version.startIndex
        // "HTTP/" digit "." digit
        guard version.count == 8, version[v] == 72, version[v + 1] == 84, version[v + 2] == 84, version[v + 3] == 80,
              version[v + 4] == 47, version[v + 6] == UInt8(ascii: "."),
              let major = decimalValue(version[v + 5]),
              let minor = decimalValue(version[v + 7]) else {
            throw .badRequest("malformed HTTP version")
        }
        guard major == 1 else { throw .unsupportedVersion }
        guard target.allSatisfy({ $0 > 32 && $0 < 127 }) else { throw .badRequest("malformed request target") }

        var headers = HTTPHeaders()
        var contentLength: Int?
        var contentLengthTooLarge = false
        var codings = TransferCodings()
        var hosts = 0
        while let line = lines.next() {
            if headers.count >= limits.maxHeaderCount { throw .headersTooLarge(limit: limits.maxHeadBytes) }
            let (nameBytes, valueBytes) = try parseField(line)
            let name = String(decoding: nameBytes, as: UTF8.self)
            let value = String(decoding: valueBytes, as: UTF8.self)
            switch fieldKind(nameBytes) {
            case .contentLength:
                // 1*DIGIT and nothing else: no sign, no space, no list.
                guard !valueBytes.isEmpty else { throw .badRequest("malformed Content-Length") }
                var length = 0
                for byte in valueBytes {
                    guard let digit = decimalValue(byte) else { throw .badRequest("malformed Content-Length") }
                    // Saturates past the limit instead of overflowing; the limit answers it.
                    length = length > limits.maxBodyBytes ? length : length * 10 + digit
                }
                if length > limits.maxBodyBytes { contentLengthTooLarge = true }
                if let contentLength, contentLength != length { throw .badRequest("conflicting Content-Length") }
                contentLength = length
            case .transferEncoding:
                try codings.add(valueBytes)
            case .host:
                hosts += 1
            case .other:
                break
            }
            headers.add(name: name, value: value)
        }
        if hosts > 1 || (minor >= 1 && hosts == 0) { throw .badRequest("an HTTP/1.1 request needs exactly one Host") }
        let request = HTTPServerRequest(
            method: knownMethod(methodBytes) ?? HTTPMethod(rawValue: String(decoding: methodBytes, as: UTF8.self)),
            target: String(decoding: target, as: UTF8.self),
            minorVersion: minor,
            headers: headers
        )
        if codings.present {
            if minor == 0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            if contentLength != nil { throw .badRequest("both Content-Length and Transfer-Encoding") }
            try codings.check()
            return (request, .chunked)
        }
        if let contentLength {
            if contentLengthTooLarge { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            return (request, .length(contentLength))
        }
        return (request, .none)
    }

    /// Splits a header or trailer line into name and value (without surrounding spaces),
    /// checking both.
    private func parseField(
        _ line: Slice<UnsafeBufferPointer<UInt8>>
    ) throws(HTTPParseError) -> (Slice<UnsafeBufferPointer<UInt8>>, Slice<UnsafeBufferPointer<UInt8>>) {
        guard let first = line.first else { throw .badRequest("empty header line") }
        if first == 32 || first == 9 { throw .badRequest("obsolete line folding") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
            throw .badRequest("malformed header line")
        }
        let nameBytes = line[..<colon]
        // Also refuses whitespace before the colon.
        guard nameBytes.allSatisfy(isTokenByte) else { throw .badRequest("malformed header name") }
        var valueStart = colon + 1
        var valueEnd = line.endIndex
        while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
        let valueBytes = line[valueStart..<valueEnd]
        guard valueBytes.allSatisfy(isFieldValueByte) else { throw .badRequest("control byte in header value") }
        return (nameBytes, valueBytes)
    }
}

/// The `Transfer-Encoding` fields of one request, as one list of codings.
private struct TransferCodings {
    var present = false
    var last: [UInt8] = []
    var count = 0
    var chunkedCount = 0

    mutating func add(_ value: Slice<UnsafeBufferPointer<UInt8>>) throws(HTTPParseError) {
        present = true
        for element in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var start = element.startIndex
            var end = element.endIndex
            while start < end, element[start] == 32 || element[start] == 9 { start += 1 }
            while end > start, element[end - 1] == 32 || element[end - 1] == 9 { end -= 1 }
            // Empty list elements are allowed and ignored (RFC 9110, 5.6.1).
            if start == end { continue }
            let coding = element[start..<end].map(asciiLower)
            // A coding is a token, optionally with parameters after ";".
            let name = coding.prefix { $0 != UInt8(ascii: ";") }
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .badRequest("malformed Transfer-Encoding") }
            if coding == Array("chunked".utf8) { chunkedCount += 1 }
            last = coding
            count += 1
        }
    }

    /// Only `chunked`, once, last: anything else before it is a coding this server does
    /// not implement (501); a list not ending in it cannot be framed (400).
    func check() throws(HTTPParseError) {
        guard count > 0, last == Array("chunked".utf8) else { throw .badRequest("Transfer-Encoding does not end in chunked") }
        if chunkedCount > 1 { throw .badRequest("chunked applied more than once") }
        if count > 1 { throw .notImplemented("transfer coding other than chunked") }
    }
}

private enum FieldKind { case other, host, contentLength, transferEncoding }

/// Which framing-relevant field a name is, by its length first: no string is built.
private func fieldKind(_ name: Slice<UnsafeBufferPointer<UInt8>>) -> FieldKind {
    switch name.count {
    case 4: equalsIgnoringCase(name, "host") ? .host : .other
    case 14: equalsIgnoringCase(name, "content-length") ? .contentLength : .other
    case 17: equalsIgnoringCase(name, "transfer-encoding") ? .transferEncoding : .other
    default: .other
    }
}

/// The CRLF-separated lines of a request head (which has no final CRLF).
private struct HeadLines {
    let head: UnsafeBufferPointer<UInt8>
    var position = 0
    var done = false

    init(head: UnsafeBufferPointer<UInt8>) {
        self.head = head
    }

    mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
        if done { return nil }
        var index = position
        // CR by memchr (vectorised), then its LF; the last byte cannot start a CRLF.
        while index + 1 < head.count, let hit = memchr(head.baseAddress! + index, 13, head.count - 1 - index) {
            let cr = head.baseAddress!.distance(to: UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)))
            if head[cr + 1] == 10 {
                let line = head[position..<cr]
                position = cr + 2
                return line
            }
            index = cr + 1
        }
        done = true
        return head[position...]
    }
}

/// The common methods without building a string from the bytes.
private func knownMethod(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> HTTPMethod? {
    let start = bytes.startIndex
    switch bytes.count {
    case 3 where bytes[start] == UInt8(ascii: "G") && bytes[start + 1] == UInt8(ascii: "E") && bytes[start + 2] == UInt8(ascii: "T"):
        return .get
    case 4 where bytes[start] == UInt8(ascii: "P") && bytes[start + 1] == UInt8(ascii: "O") && bytes[start + 2] == UInt8(ascii: "S")
        && bytes[start + 3] == UInt8(ascii: "T"):
        return .post
    case 4 where bytes[start] == UInt8(ascii: "H") && bytes[start + 1] == UInt8(ascii: "E") && bytes[start + 2] == UInt8(ascii: "A")
        && bytes[start + 3] == UInt8(ascii: "D"):
        return .head
    default:
        return nil
    }
}

private func decimalValue(_ byte: UInt8) -> Int? {
    byte >= 48 && byte <= 57 ? Int(byte - 48) : nil
}

private func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 48...57: Int(byte - 48)
    case 65...70: Int(byte - 55)
    case 97...102: Int(byte - 87)
    default: nil
    }
}
