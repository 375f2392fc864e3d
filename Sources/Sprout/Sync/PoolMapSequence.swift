/// The results of ``Pool/imap(_:maxPending:progress:_:)`` or ``Pool/imapUnordered(_:maxPending:progress:_:)``,
/// as they come. Single-pass, like `AsyncStream`: iterating again continues where the last
/// iteration stopped. When the last copy of the sequence and its iterators goes away, the
/// run stops and its greenlets are killed, so breaking out of a loop leaks nothing.
public struct PoolMapSequence<Output: Sendable>: AsyncSequence, Sendable {
    /// Iteration throws the function's first error, or `CancellationError`.
    public typealias Failure = any Error

    let owner: Owner

    /// Keeps the run alive while the sequence or an iterator exists, and stops it after.
    final class Owner: Sendable {
        let next: @Hub @Sendable () async throws -> Output?
        let stop: @Hub @Sendable () -> Void

        init(next: @escaping @Hub @Sendable () async throws -> Output?, stop: @escaping @Hub @Sendable () -> Void) {
            self.next = next
            self.stop = stop
        }

        deinit {
            Hub.later(stop)
        }
    }

    /// An iterator over the results.
    public func makeAsyncIterator() -> Iterator {
        Iterator(owner: owner)
    }

    /// Yields the results one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        let owner: Owner

        /// The next result, or `nil` when the input is used up and every result delivered.
        ///
        /// - Throws: the first error the function threw; `CancellationError` if the
        ///   iterating greenlet is killed. Either way the run stops.
        public mutating func next() async throws -> Output? {
            try await owner.next()
        }
    }
}
