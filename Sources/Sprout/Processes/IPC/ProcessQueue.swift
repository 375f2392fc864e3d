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
