/// An incremental HTTP/1.x request parser: feed it bytes as they arrive with
/// ``append(_:)``, take complete requests with ``next()``. Pipelined requests come out
/// one by one. Pure Swift, no I/O, so it is tested on bytes alone.
///
/// Malformed input is a ``HTTPParseError`` (never a crash): bad syntax, both
/// `Content-Length` and `Transfer-Encoding` (a smuggling vector), a transfer coding other
/// than chunked, and the limits below.
package struct HTTPRequestParser: Sendable {
    /// Limits on what one request may carry.
    package struct Limits: Sendable {
        /// Bytes allowed for the request line and headers together (431 beyond).
        package var maxHeadBytes: Int
        /// Header fields allowed (431 beyond).
        package var maxHeaderCount: Int
        /// Body bytes allowed, declared or chunked (413 beyond).
        package var maxBodyBytes: Int

        /// Limits; the defaults suit small services.
        package init(maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 16 * 1024 * 1024) {
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

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
    private var state = State.head
    private var pending: HTTPServerRequest?
    private var continueOwed = false

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
        } else {
            append(bytes[...])
        }
    }

    /// Adds received bytes.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        } else if position > 65_536 && position > buffer.count / 2 {
            buffer.removeSubrange(0..<position)
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
                guard let end = findHeadEnd() else {
                    if buffer.count - position > limits.maxHeadBytes { throw .headersTooLarge(limit: limits.maxHeadBytes) }
                    return nil
                }
                if end - position > limits.maxHeadBytes { throw .headersTooLarge(limit: limits.maxHeadBytes) }
                let start = position
                let (request, framing) = try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                    try parseHead(UnsafeBufferPointer(rebasing: bytes[start..<end]))
                }
                position = end + 4
                pending = request
                switch framing {
                case .none: return finishRequest()
                case .length(let length):
                    if length == 0 { return finishRequest() }
                    continueOwed = expectsContinue(request) && buffer.count - position < length
                    pending!.body.reserveCapacity(length)
                    state = .fixedBody(remaining: length)
                case .chunked:
                    continueOwed = expectsContinue(request) && position == buffer.count
                    state = .chunkSize
                }
            case .fixedBody(let remaining):
                let take = min(remaining, buffer.count - position)
                if take == 0 { return nil }
                pending!.body.append(contentsOf: buffer[position..<position + take])
                position += take
                if take == remaining { return finishRequest() }
                state = .fixedBody(remaining: remaining - take)
            case .chunkSize:
                guard let lineEnd = try findCRLF(from: position, limit: 1024) else { return nil }
                let size = try parseChunkSize(buffer[position..<lineEnd])
                position = lineEnd + 2
                if size == 0 {
                    state = .trailers
                } else {
                    if pending!.body.count + size > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - position)
                if take == 0 { return nil }
                pending!.body.append(contentsOf: buffer[position..<position + take])
                position += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                if buffer.count - position < 2 { return nil }
                guard buffer[position] == 13, buffer[position + 1] == 10 else { throw .badRequest("chunk not followed by CRLF") }
                position += 2
                state = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped; an empty line ends the request.
                guard let lineEnd = try findCRLF(from: position, limit: limits.maxHeadBytes) else { return nil }
                let empty = lineEnd == position
                position = lineEnd + 2
                if empty { return finishRequest() }
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

    private func findHeadEnd() -> Int? {
        // Only the first maxHeadBytes (+4) need searching.
        let stop = min(buffer.count, position + limits.maxHeadBytes + 4)
        return buffer.withUnsafeBufferPointer { bytes -> Int? in
            var index = position
            while index + 3 < stop {
                if bytes[index + 3] != 10 { index += bytes[index + 3] == 13 ? 1 : 4; continue }
                if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 { return index }
                index += 1
            }
            return nil
        }
    }

    private func findCRLF(from start: Int, limit: Int) throws(HTTPParseError) -> Int? {
        var index = start
        while index + 1 < buffer.count {
            if buffer[index] == 13 && buffer[index + 1] == 10 { return index }
            index += 1
            if index - start > limit { throw .badRequest("line too long") }
        }
        return nil
    }

    private func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            if byte == UInt8(ascii: ";") { break }
            guard let digit = hexValue(byte) else {
                if byte == 32 || byte == 9 { continue }
                throw .badRequest("bad chunk size")
            }
            digits += 1
            size = size * 16 + digit
            if size > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        }
        if digits == 0 { throw .badRequest("missing chunk size") }
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
        guard target.allSatisfy({ $0 > 32 && $0 != 127 }) else { throw .badRequest("malformed request target") }

        var headers = HTTPHeaders()
        var contentLength: Int?
        var chunked = false
        var transferEncoding = false
        while let line = lines.next() {
            if line.contains(13) { throw .badRequest("bare CR in header") }
            if headers.count >= limits.maxHeaderCount { throw .headersTooLarge(limit: limits.maxHeadBytes) }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw .badRequest("malformed header line")
            }
            let nameBytes = line[..<colon]
            guard nameBytes.allSatisfy(isTokenByte) else { throw .badRequest("malformed header name") }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
            let valueBytes = line[valueStart..<valueEnd]
            guard !valueBytes.contains(10), !valueBytes.contains(0) else { throw .badRequest("malformed header value") }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let value = String(decoding: valueBytes, as: UTF8.self)
            if name.caseInsensitiveEquals("Content-Length") {
                guard !valueBytes.isEmpty, valueBytes.count <= 18, let length = Int(value), length >= 0 else {
                    throw .badRequest("malformed Content-Length")
                }
                if let contentLength, contentLength != length { throw .badRequest("conflicting Content-Length") }
                contentLength = length
            } else if name.caseInsensitiveEquals("Transfer-Encoding") {
                transferEncoding = true
                chunked = value.lowercased().split(separator: ",").last.map { $0.trimmingSpaces == "chunked" } ?? false
            }
            headers.add(name: name, value: value)
        }
        let request = HTTPServerRequest(
            method: knownMethod(methodBytes) ?? HTTPMethod(rawValue: String(decoding: methodBytes, as: UTF8.self)),
            target: String(decoding: target, as: UTF8.self),
            minorVersion: minor,
            headers: headers
        )
        if transferEncoding {
            if contentLength != nil { throw .badRequest("both Content-Length and Transfer-Encoding") }
            if !chunked { throw .badRequest("unsupported transfer coding") }
            return (request, .chunked)
        }
        if let contentLength {
            if contentLength > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            return (request, .length(contentLength))
        }
        return (request, .none)
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
        while index + 1 < head.count {
            if head[index] == 13 && head[index + 1] == 10 {
                let line = head[position..<index]
                position = index + 2
                return line
            }
            index += 1
        }
        done = true
        return head[position...]
    }
}

/// True for the bytes RFC 9110 allows in a token (method, header name); a switch the
/// compiler turns into a table lookup.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
         UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default:
        false
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

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
