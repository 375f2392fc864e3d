import Sprout

/// The client side of SproutHTTPTests' scale test: `count` connections to the HTTP server
/// at 127.0.0.1:`port`, at most 100 connecting at a time, each asking `GET /` once and then
/// held open; once all are open and answered, each asks again on the same connection (so
/// all were served together, and each was kept alive); then all are closed. Prints how
/// many requests were answered; true when all `2 * count` were.
func keepAliveClients(port: Int, count: Int) throws -> Bool {
    try Hub.run { () -> Bool in
        let clients = KeepAliveClients(port: port)
        do {
            try await clients.open(count)
            try await clients.askAgain()
        } catch {
            print("after \(clients.answered) answers: \(error)")
        }
        clients.closeAll()
        print("answered \(clients.answered) of \(2 * count)")
        return clients.answered == 2 * count
    }
}

@Hub
private final class KeepAliveClients {
    let port: Int
    private(set) var streams: [TCPStream] = []
    private(set) var answered = 0
    private let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    private static let concurrency = 100

    init(port: Int) { self.port = port }

    func open(_ count: Int) async throws {
        var started = 0
        let workers = (0..<Self.concurrency).map { _ in
            spawn { [self] in
                while started < count {
                    started += 1
                    let stream = try await TCPStream.connect(host: "127.0.0.1", port: port, timeout: 30)
                    streams.append(stream)
                    try await ask(stream)
                }
            }
        }
        try await joinAll(workers, raiseError: true)
    }

    func askAgain() async throws {
        var next = 0
        let workers = (0..<Self.concurrency).map { _ in
            spawn { [self] in
                while next < streams.count {
                    let stream = streams[next]
                    next += 1
                    try await ask(stream)
                }
            }
        }
        try await joinAll(workers, raiseError: true)
    }

    func closeAll() {
        for stream in streams { stream.close() }
        streams.removeAll()
    }

    /// Sends the request and reads a `200` answer with its `Content-Length` body.
    private func ask(_ stream: TCPStream) async throws {
        try await stream.write(request)
        let head = String(decoding: try await stream.readUntil(Array("\r\n\r\n".utf8), maxLength: 4096), as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200 "),
              let field = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
              let length = Int(field.dropFirst("content-length:".count).trimmingPrefix(" "))
        else { throw UnexpectedAnswer(head: head) }
        _ = try await stream.readExactly(length)
        answered += 1
    }
}

/// An answer that is not `200` with a `Content-Length`.
private struct UnexpectedAnswer: Error, CustomStringConvertible {
    let head: String
    var description: String { "unexpected answer: \(head)" }
}
