import Sprout

/// One connection of an ``HTTPServer``: its stream, whether it waits between requests
/// (safe to close on stop), and the moment, on the hub's loop clock, at which the
/// server's sweep closes it.
@Hub
final class HTTPServerConnection {
    let stream: TCPStream
    var idle = false
    /// Milliseconds of ``Hub/loopMilliseconds``; `.max` while nothing is awaited from the
    /// client (the handler runs).
    var deadline = UInt64.max
    private let writeMilliseconds: UInt64

    init(stream: TCPStream, writeTimeout: Double) {
        self.stream = stream
        writeMilliseconds = milliseconds(writeTimeout)
    }

    /// Sets the deadline `timeout` milliseconds from now.
    func expire(after timeout: UInt64) {
        deadline = Hub.loopMilliseconds &+ timeout
    }

    /// Writes `bytes`; the client has the write timeout to take them.
    ///
    /// - Throws: ``HubError`` if the client went away or the sweep closed the connection;
    ///   `CancellationError` if the greenlet is killed.
    func write(_ bytes: [UInt8]) async throws {
        expire(after: writeMilliseconds)
        defer { deadline = .max }
        try await stream.write(bytes)
    }
}

/// `seconds` as whole milliseconds, rounded up (a validated timeout is positive and finite).
func milliseconds(_ seconds: Double) -> UInt64 {
    UInt64(min((seconds * 1000).rounded(.up), 1e15))
}
