import Sprout

/// One connection of an ``HTTPServer``: its stream, whether it waits between requests
/// (safe to close on stop), and what the server's sweep needs to close it in time.
@Hub
final class HTTPServerConnection {
    let stream: TCPStream
    var idle = false
    /// When the client must have sent what is awaited, in milliseconds of
    /// ``Hub/loopMilliseconds``; `.max` while nothing is awaited (the handler runs).
    var deadline = UInt64.max
    /// Response bytes still queued for the kernel at the last sweep, and when that count
    /// last changed: a client that takes none of them for the write timeout is closed.
    var queuedBytes = 0
    var queuedSince: UInt64 = 0

    init(stream: TCPStream) {
        self.stream = stream
    }

    /// Sets the deadline `timeout` milliseconds from now.
    func expire(after timeout: UInt64) {
        deadline = Hub.loopMilliseconds &+ timeout
    }
}

/// `seconds` as whole milliseconds, rounded up (a validated timeout is positive and finite).
func milliseconds(_ seconds: Double) -> UInt64 {
    UInt64(min((seconds * 1000).rounded(.up), 1e15))
}
