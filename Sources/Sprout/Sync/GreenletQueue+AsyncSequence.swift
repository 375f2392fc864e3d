extension GreenletQueue: AsyncSequence {
    /// Iterates the queue's items, taking each one as it comes (parking while empty);
    /// the sequence ends once the queue is closed and drained.
    public nonisolated func makeAsyncIterator() -> Iterator {
        Iterator(queue: self)
    }

    /// Takes items from the queue one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        @usableFromInline let queue: GreenletQueue

        @usableFromInline init(queue: GreenletQueue) {
            self.queue = queue
        }

        /// The next item, or `nil` once the queue is closed and empty.
        ///
        /// - Throws: `CancellationError` if the iterating greenlet is killed.
        @inlinable
        public mutating func next() async throws -> Element? {
            do {
                if let item = try queue.itemWithoutWaitingIfOnHub() { return item }
            } catch {
                return nil  // `.closed`, the only error it throws: closed and drained
            }
            return try await queue.core.nextItem().map { $0 as! Element }
        }
    }
}
