import Sprout

/// Writes a streamed response body, one chunk per `write`, for
/// ``HTTPServerResponse/Body/stream(_:)``.
@Hub
public final class HTTPChunkWriter {
    private let stream: TCPStream
    private let headOnly: Bool
    private var scratch: [UInt8] = []

    init(stream: TCPStream, headOnly: Bool) {
        self.stream = stream
        self.headOnly = headOnly
    }

    /// Sends `bytes` as one chunk (nothing for an empty array); waits while the client is
    /// slow to read, so memory stays bounded, for up to the server's write timeout.
    ///
    /// - Throws: `IOError` (Sprout) if the client went away or took nothing for longer than the
    ///   write timeout; `CancellationError` if killed.
    public func write(_ bytes: [UInt8]) async throws {
        guard !headOnly, !bytes.isEmpty else { return }
        scratch.removeAll(keepingCapacity: true)
        HTTPResponseEncoder.encodeChunk(bytes, into: &scratch)
        try await stream.write(scratch)
    }

    /// Sends the UTF-8 bytes of `text` as one chunk.
    ///
    /// - Throws: `IOError` (Sprout) if the client went away; `CancellationError` if killed.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }
}
