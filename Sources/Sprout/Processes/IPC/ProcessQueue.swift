import Synchronization

/// A queue of `Value`s shared by any number of processes — multiprocessing's `Queue`:
/// every holder may ``put(_:)`` and ``get(timeout:)-(Double?)``, and each value is taken by exactly
/// one getter. Send it to workers inside jobs (it is `Codable`). Values must encode to at
/// most 128 KiB, and as many as the kernel's socket buffer holds may wait unread.
///
/// Waiting behaves as the greenlet ``Queue``'s: a `get` whose timeout passes, or a
/// ``getNowait()`` on an empty queue, throws ``QueueError/empty``. On the hub, waits
/// switch greenlets; in a job running in a worker they block its thread.
public final class ProcessQueue<Value: Codable & Sendable>: Codable, Sendable {
    private let input: MessageSocket
    private let output: MessageSocket
    /// Values put and not yet taken, by every process: what ``count`` reports.
    private let waiting: SharedValue<Int>
    private let closed = Atomic<Bool>(false)

    /// An empty queue.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if no socket can be made;
    ///   ``SharedMemoryError`` if the shared counter cannot be made.
    public init() throws {
        (input, output) = try MessageSocket.pair()
        waiting = try SharedValue(0)
    }

    /// How many values wait in the queue, put by any process and taken by none yet —
    /// multiprocessing's `qsize()`. Approximate while other processes put and get.
    public var count: Int { max(0, waiting.value) }

    /// True if no value is waiting to be taken now — multiprocessing's `empty()`.
    public var isEmpty: Bool { !output.hasMessage }

    /// Adds `value` to the queue.
    ///
    /// - Throws: ``QueueError/closed`` after ``close()``; ``ProcessChannelError``;
    ///   `CancellationError` if the greenlet is killed.
    public func put(_ value: Value) async throws {
        try checkOpen()
        try await input.send(value)
        waiting.withLock { count, _ in count += 1 }
    }

    /// Takes the oldest value, waiting up to `timeout` seconds (forever when `nil`).
    ///
    /// - Throws: ``QueueError/empty`` if `timeout` passes first (multiprocessing's
    ///   `queue.Empty`); ``QueueError/closed`` after ``close()``; ``ProcessChannelError``;
    ///   `CancellationError` if the greenlet is killed.
    public func get(timeout: Double? = nil) async throws -> Value {
        try checkOpen()
        guard let value = try await output.receive(Value.self, timeout: timeout) else { throw QueueError.empty }
        waiting.withLock { count, _ in count -= 1 }
        return value
    }

    /// Takes the oldest value if one is waiting, without waiting — `get_nowait()`.
    ///
    /// - Throws: ``QueueError/empty`` if none is; ``QueueError/closed`` after ``close()``;
    ///   ``ProcessChannelError``.
    public func getNowait() throws -> Value {
        try checkOpen()
        guard let value = try output.receiveNow(Value.self) else { throw QueueError.empty }
        waiting.withLock { count, _ in count -= 1 }
        return value
    }

    /// Says this process will use the queue no more — multiprocessing's `close()`: later
    /// calls on this object throw ``QueueError/closed``. Other processes' copies, and
    /// values already put, are not affected.
    public func close() {
        closed.store(true, ordering: .relaxed)
    }

    private func checkOpen() throws(QueueError) {
        if closed.load(ordering: .relaxed) { throw .closed }
    }

    private enum CodingKeys: String, CodingKey {
        case input, output, waiting
    }

    /// Encodes both ends as descriptors passed to the worker the job goes to, and the
    /// shared counter's name.
    ///
    /// - Throws: `EncodingError` outside a job sent to a worker.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(PassedDescriptor(input.fd), forKey: .input)
        try container.encode(PassedDescriptor(output.fd), forKey: .output)
        try container.encode(waiting, forKey: .waiting)
    }

    /// Takes over the queue a job carried.
    ///
    /// - Throws: `DecodingError` if the descriptors did not arrive; ``SharedMemoryError``
    ///   if the counter no longer exists.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        input = try MessageSocket(adopting: container.decode(PassedDescriptor.self, forKey: .input))
        output = try MessageSocket(adopting: container.decode(PassedDescriptor.self, forKey: .output))
        waiting = try container.decode(SharedValue<Int>.self, forKey: .waiting)
    }
}
