/// An unbuffered queue — gevent's `Channel`: ``put(_:timeout:)-(_,Double?)`` parks until a getter
/// takes the item, so every item is a hand-off between two greenlets.
///
/// Putters and getters are served first come, first served; a putter that times out or
/// is killed keeps its item. The channel is an `AsyncSequence` that ends once closed.
///
/// ```swift
/// let channel = Channel<Int>()
/// spawn { for i in 0..<3 { try await channel.put(i) }; channel.close() }
/// for try await i in channel { print(i) }   // 0 1 2
/// ```
@Hub
public final class Channel<Element: Sendable>: Sendable, AsyncSequence {
    @usableFromInline let queue = GreenletQueue<FIFOBuffer<Element>>(maxSize: 0)

    /// A channel with no buffer.
    public nonisolated init() {}

    /// True once ``close()`` was called.
    public var isClosed: Bool { queue.isClosed }

    /// Hands `item` to a getter, parking until one takes it.
    ///
    /// - Throws: ``QueueError/closed`` if the channel is (or gets) closed;
    ///   ``QueueError/full`` if `timeout` passes before a getter comes;
    ///   `CancellationError` if the greenlet is killed while waiting. The item was not
    ///   handed over in any of these cases.
    @inlinable @inline(__always)
    public nonisolated(nonsending) func put(_ item: Element, timeout: Double? = nil) async throws {
        try await queue.put(item, timeout: timeout)
    }

    /// Hands `item` to a getter that is already waiting.
    ///
    /// - Throws: ``QueueError/full`` if no getter waits; ``QueueError/closed`` if closed.
    @inlinable
    public func putNowait(_ item: Element) throws(QueueError) {
        try queue.putNowait(item)
    }

    /// Takes an item from a putter, parking until one comes.
    ///
    /// - Throws: ``QueueError/closed`` once the channel is closed and no putter waits;
    ///   ``QueueError/empty`` if `timeout` passes first; `CancellationError` if killed.
    @inlinable @inline(__always)
    public nonisolated(nonsending) func get(timeout: Double? = nil) async throws -> Element {
        try await queue.get(timeout: timeout)
    }

    /// Takes an item from a putter that is already waiting.
    ///
    /// - Throws: ``QueueError/empty`` if none waits; ``QueueError/closed`` if closed.
    @inlinable
    public func getNowait() throws(QueueError) -> Element {
        try queue.getNowait()
    }

    /// Closes the channel: parked putters and getters wake with ``QueueError/closed``,
    /// and iteration ends.
    public func close() {
        queue.close()
    }

    /// Iterates the items handed over until the channel is closed.
    public nonisolated func makeAsyncIterator() -> GreenletQueue<FIFOBuffer<Element>>.Iterator {
        queue.makeAsyncIterator()
    }
}
