import CLibuv

extension ByteStream {
    /// Reads exactly `count` bytes, waiting as long as it takes.
    ///
    /// - Throws: ``IOError`` `EOF` if the stream ends first (the bytes that did arrive
    ///   stay buffered for the next read); ``IOError`` if the connection fails;
    ///   `CancellationError` if the greenlet is killed.
    public func readExactly(_ count: Int) async throws -> [UInt8] {
        precondition(count >= 0, "readExactly needs a count of zero or more")
        guard try await fill(count) else {
            throw IOError(
                code: Int32(UV_EOF.rawValue),
                operation: "read \(count) bytes (the stream ended after \(bufferedCount)) from", peer: peerDescription()
            )
        }
        return take(count)
    }

    /// Reads up to and including the first occurrence of `delimiter` (a line with
    /// `[10]`, a header block with `"\r\n\r\n"`).
    ///
    /// - Returns: the bytes through the delimiter; an empty array if the stream ends
    ///   with nothing buffered (a clean end between messages).
    /// - Throws: ``IOError`` `ENOBUFS` if `maxLength` bytes arrive without the delimiter
    ///   (they stay buffered); ``IOError`` `EOF` if the stream ends in the middle of a
    ///   message; ``IOError`` if the connection fails; `CancellationError` if killed.
    public func readUntil(_ delimiter: [UInt8], maxLength: Int = 65536) async throws -> [UInt8] {
        precondition(!delimiter.isEmpty, "readUntil needs a non-empty delimiter")
        var searchFrom = 0
        while true {
            let window = bufferedBytes
            if let end = Self.find(delimiter, in: window, from: searchFrom) {
                if end <= maxLength { return take(end) }
                break
            }
            if window.count >= maxLength { break }
            searchFrom = max(0, window.count - delimiter.count + 1)
            guard try await fill(window.count + 1) else {
                if bufferedCount == 0 { return [] }
                throw IOError(
                    code: Int32(UV_EOF.rawValue),
                    operation: "read until delimiter (the stream ended after \(bufferedCount) bytes without it) from", peer: peerDescription()
                )
            }
        }
        throw IOError(
            code: Int32(UV_ENOBUFS.rawValue),
            operation: "read until delimiter (not within \(maxLength) bytes) from", peer: peerDescription()
        )
    }

    /// Reads everything until the peer ends the stream.
    ///
    /// - Throws: ``IOError`` `ENOBUFS` if more than `maxLength` bytes arrive;
    ///   ``IOError`` if the connection fails; `CancellationError` if killed.
    public func readToEnd(maxLength: Int = 16 << 20) async throws -> [UInt8] {
        while try await fill(bufferedCount + 1) {
            if bufferedCount > maxLength {
                throw IOError(
                    code: Int32(UV_ENOBUFS.rawValue),
                    operation: "read to end (more than \(maxLength) bytes) from", peer: peerDescription()
                )
            }
        }
        return take(bufferedCount)
    }

    /// The offset just past the first `delimiter` in `window` at or after `start`
    /// (offsets relative to the window's start).
    private static func find(_ delimiter: [UInt8], in window: ArraySlice<UInt8>, from start: Int) -> Int? {
        let first = delimiter[0]
        let base = window.startIndex
        var index = base + start
        let last = window.endIndex - delimiter.count
        while index <= last {
            if window[index] == first && window[index..<index + delimiter.count].elementsEqual(delimiter) {
                return index - base + delimiter.count
            }
            index += 1
        }
        return nil
    }
}
