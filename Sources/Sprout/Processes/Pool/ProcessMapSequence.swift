/// The results of a map over a ``ProcessPool`` (``ProcessPool/imap(_:chunkSize:progress:)``,
/// ``ProcessPool/imapUnordered(_:chunkSize:progress:)``), as an `AsyncSequence`.
///
/// The first failed job ends the iteration by throwing its error (``JobFailed``,
/// ``WorkerCrashed``, ...), and the rest of the map is abandoned; use
/// ``ProcessPool/mapResults(_:chunkSize:ordered:progress:)`` to get every item's outcome.
/// Iterate it once.
public struct ProcessMapSequence<Job: ProcessJob>: AsyncSequence, Sendable {
    public typealias Element = Job.Output
    public typealias Failure = any Error

    let lifetime: MapLifetime<Job>

    public func makeAsyncIterator() -> Iterator {
        Iterator(lifetime: lifetime)
    }

    /// Yields outputs.
    public struct Iterator: AsyncIteratorProtocol {
        let lifetime: MapLifetime<Job>

        /// The next output, or `nil` when all are read.
        ///
        /// - Throws: the first job's error; `CancellationError` if the reader is killed.
        public mutating func next() async throws -> Job.Output? {
            try await lifetime.run.nextOutput()
        }
    }
}

/// Every item's outcome of a map over a ``ProcessPool``
/// (``ProcessPool/mapResults(_:chunkSize:ordered:progress:)``): a failure is one
/// `.failure` element and the sequence goes on. Iterate it once.
public struct ProcessResultSequence<Job: ProcessJob>: AsyncSequence, Sendable {
    public typealias Element = Result<Job.Output, any Error>
    public typealias Failure = any Error

    let lifetime: MapLifetime<Job>

    public func makeAsyncIterator() -> Iterator {
        Iterator(lifetime: lifetime)
    }

    /// Yields outcomes.
    public struct Iterator: AsyncIteratorProtocol {
        let lifetime: MapLifetime<Job>

        /// The next outcome, or `nil` when all are read.
        ///
        /// - Throws: `CancellationError` if the reader is killed.
        public mutating func next() async throws -> Result<Job.Output, any Error>? {
            try await lifetime.run.next()
        }
    }
}
