/// One end of a two-way channel between processes carrying `Value`s — multiprocessing's
/// `Pipe()` connection. Make both ends with ``pair()``, keep one, and send the other to a
/// worker or child inside a job (it is `Codable`; the socket itself travels with
/// `SCM_RIGHTS`). Each value is one message, sent and received whole, so any number of
/// processes may share an end. Values must encode to at most 128 KiB.
///
/// On the hub, ``send(_:)`` and ``receive(timeout:)`` switch greenlets while they wait; in a
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

/// A queue of `Value`s shared by any number of processes — multiprocessing's `Queue`:
/// every holder may ``put(_:)`` and ``get(timeout:)``, and each value is taken by exactly
/// one getter. Send it to workers inside jobs (it is `Codable`). Values must encode to at
/// most 128 KiB, and as many as the kernel's socket buffer holds may wait unread.
///
/// On the hub, waits switch greenlets; in a job running in a worker they block its thread.
public final class ProcessQueue<Value: Codable & Sendable>: Codable, Sendable {
    private let input: MessageSocket
    private let output: MessageSocket

    /// An empty queue.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if no socket can be made.
    public init() throws {
        (input, output) = try MessageSocket.pair()
    }

    /// Adds `value` to the queue.
    ///
    /// - Throws: ``ProcessChannelError``; `CancellationError` if the greenlet is killed.
    public func put(_ value: Value) async throws {
        try await input.send(value)
    }

    /// Takes the oldest value; `nil` if `timeout` seconds pass first.
    ///
    /// - Throws: ``ProcessChannelError``; `CancellationError` if the greenlet is killed.
    public func get(timeout: Double? = nil) async throws -> Value? {
        try await output.receive(Value.self, timeout: timeout)
    }

    private enum CodingKeys: String, CodingKey {
        case input, output
    }

    /// Encodes both ends as descriptors passed to the worker the job goes to.
    ///
    /// - Throws: `EncodingError` outside a job sent to a worker.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(PassedDescriptor(input.fd), forKey: .input)
        try container.encode(PassedDescriptor(output.fd), forKey: .output)
    }

    /// Takes over the queue a job carried.
    ///
    /// - Throws: `DecodingError` if the descriptors did not arrive.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        input = try MessageSocket(adopting: container.decode(PassedDescriptor.self, forKey: .input))
        output = try MessageSocket(adopting: container.decode(PassedDescriptor.self, forKey: .output))
    }
}
