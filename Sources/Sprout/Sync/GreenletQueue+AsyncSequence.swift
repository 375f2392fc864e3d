extension GreenletQueue: AsyncSequence {
    /// Iterates the queue's items, taking each one as it comes (parking while empty);
    /// the sequence ends once the queue is closed and drained.
    public nonisolated func makeAsyncIterator() -> Iterator {
        Iterator(queue: self)
    }

    /// Takes items from the queue one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        let queue: GreenletQueue

        /// The next item, or `nil` once the queue is closed and empty.
        ///
        /// - Throws: `CancellationError` if the iterating greenlet is killed.
        public mutating func next() async throws -> Element? {
            try await queue.nextItem()
        }
    }
}
