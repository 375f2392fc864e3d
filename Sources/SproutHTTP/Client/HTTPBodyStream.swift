import Sprout

/// A response body arriving in chunks: `for try await chunk in response.body { ... }`.
///
/// Iteration throws ``HTTPError`` if the transfer fails midway (the server closes the
/// connection, a timeout passes) and `CancellationError` if the reading greenlet is killed.
public struct HTTPBodyStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    let source: HTTPBodySource

    /// The iterator; all iterators of one stream share its chunks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: HTTPBodySource

        /// The next chunk, or `nil` at the end of the body.
        ///
        /// - Throws: ``HTTPError`` if the transfer failed; `CancellationError` if killed.
        public mutating func next() async throws -> [UInt8]? {
            try await source.next()
        }
    }

    /// Starts reading the body.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source)
    }

    /// Reads the rest of the body into one array.
    ///
    /// - Throws: ``HTTPError`` if the transfer failed; `CancellationError` if killed.
    public func collect() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self { bytes += chunk }
        return bytes
    }
}

/// Owns a streamed transfer: hands out its chunks, and takes it out of the client when
/// the body ends, fails, or is dropped unread.
@Hub
final class HTTPBodySource {
    private let transfer: CurlTransfer
    private let multi: CurlMulti

    init(transfer: CurlTransfer, multi: CurlMulti) {
        self.transfer = transfer
        self.multi = multi
    }

    deinit {
        let transfer = transfer, multi = multi
        Hub.later {
            multi.abort(transfer)
            transfer.release(to: multi)
        }
    }

    func next() async throws -> [UInt8]? {
        while true {
            if let chunk = transfer.takeChunk() { return chunk }
            if transfer.result != nil {
                if let error = transfer.error { throw error }
                return nil
            }
            do {
                try await transfer.waitForProgress()
            } catch {
                multi.abort(transfer)
                throw error
            }
        }
    }
}
