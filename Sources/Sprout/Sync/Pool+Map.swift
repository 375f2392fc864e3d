extension Pool {
    /// Calls `body` on every element of `input` through the pool and returns the results
    /// in input order — gevent's `Pool.map`. At most ``size`` calls run at once (fewer if
    /// the pool is busy with other greenlets); `input` is read as calls start.
    ///
    /// - Throws: the first error `body` throws (the other calls are then killed);
    ///   `CancellationError` if the calling greenlet is killed (the calls are killed too).
    public func map<Input: Sequence, Output: Sendable>(
        _ input: Input,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) async throws -> [Output] where Input.Element: Sendable {
        let run = PoolMapRun(pool: self, input: input, ordered: true, window: nil, body: body)
        var results: [Output] = []
        results.reserveCapacity(input.underestimatedCount)
        do {
            while let output = try await run.next() { results.append(output) }
        } catch {
            run.stop()
            throw error
        }
        return results
    }

    /// The results of `body` over `input`, in input order, as they become available —
    /// gevent's `Pool.imap`. Lazy and bounded: at most ``size`` calls run at once, and
    /// `input` is read only while fewer than `maxPending` results wait to be consumed,
    /// so `input` may be endless.
    ///
    /// - Parameter maxPending: results read ahead of the consumer (default: twice ``size``).
    public func imap<Input: Sequence, Output: Sendable>(
        _ input: Input,
        maxPending: Int? = nil,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) -> PoolMapSequence<Output> where Input.Element: Sendable {
        sequence(input, ordered: true, maxPending: maxPending, body)
    }

    /// Like ``imap(_:maxPending:_:)``, but yields each result as soon as it is ready,
    /// whatever its place in the input — gevent's `Pool.imap_unordered`.
    public func imapUnordered<Input: Sequence, Output: Sendable>(
        _ input: Input,
        maxPending: Int? = nil,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) -> PoolMapSequence<Output> where Input.Element: Sendable {
        sequence(input, ordered: false, maxPending: maxPending, body)
    }

    private func sequence<Input: Sequence, Output: Sendable>(
        _ input: Input,
        ordered: Bool,
        maxPending: Int?,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) -> PoolMapSequence<Output> where Input.Element: Sendable {
        let run = PoolMapRun(pool: self, input: input, ordered: ordered, window: maxPending ?? 2 * size, body: body)
        return PoolMapSequence(owner: .init(next: { try await run.next() }, stop: { run.stop() }))
    }
}
