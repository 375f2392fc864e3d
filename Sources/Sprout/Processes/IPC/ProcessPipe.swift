/// One end of a two-way channel between processes carrying `Value`s — multiprocessing's
/// `Pipe()` connection. Make both ends with ``pair()``, keep one, and send the other to a
/// worker or child inside a job (it is `Codable`; the socket itself travels with
/// `SCM_RIGHTS`). Each value is one message, sent and received whole, so any number of
/// processes may share an end. Values must encode to at most 128 KiB.
///
/// On the hub, ``send(_:)`` and ``receive(timeout:)-(Double?)`` switch greenlets while they wait; in a
/// job running in a worker they block the worker's thread.
public final class ProcessPipe<Value: Codable & Sendable>: Codable, Sendable {
    let socket: MessageSocket

    private init(socket: MessageSocket) {
        self.socket = socket
    }

    /// Two connected ends: what one sends, the other receives.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if no socket can be made.
    public static func pair() throws -> (ProcessPipe, ProcessPipe) {
        let (left, right) = try MessageSocket.pair()
        return (ProcessPipe(socket: left), ProcessPipe(socket: right))
    }

    /// Sends `value` to the other end.
    ///
    /// - Throws: ``ProcessChannelError`` (closed, too large, coding); `CancellationError`
    ///   if the waiting greenlet is killed.
    public func send(_ value: Value) async throws {
        try await socket.send(value)
    }

    /// Receives the next value from the other end; `nil` if `timeout` seconds pass first.
    ///
    /// - Throws: ``ProcessChannelError/closed`` once every holder of the other end closed it;
    ///   other ``ProcessChannelError``s; `CancellationError` if the greenlet is killed.
    public func receive(timeout: Double? = nil) async throws -> Value? {
        try await socket.receive(Value.self, timeout: timeout)
    }

    /// Encodes the end as a descriptor passed to the worker the job goes to.
    ///
    /// - Throws: `EncodingError` outside a job sent to a worker.
    public func encode(to encoder: any Encoder) throws {
        try PassedDescriptor(socket.fd).encode(to: encoder)
    }

    /// Takes over the end a job carried.
    ///
    /// - Throws: `DecodingError` if the descriptor did not arrive.
    public convenience init(from decoder: any Decoder) throws {
        self.init(socket: try MessageSocket(adopting: PassedDescriptor(from: decoder)))
    }
}
