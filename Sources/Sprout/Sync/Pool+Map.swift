extension Pool {
    /// Calls `body` on every element of `input` through the pool and returns the results
    /// in input order — gevent's `Pool.map`. At most ``size`` calls run at once (fewer if
    /// the pool is busy with other greenlets); `input` is read as calls start.
    ///
    /// - Parameters:
    ///   - input: the elements, read as calls start.
    ///   - progress: called on the hub after each call ends, with how many are done (of how
    ///     many, when `input` is a collection) and the rate: pass ``ProgressLine/update(_:)``
    ///     for a progress line on a terminal, as tqdm gives.
    ///   - body: the function, called in a pool greenlet for each element.
    /// - Throws: the first error `body` throws (the other calls are then killed);
    ///   `CancellationError` if the calling greenlet is killed (the calls are killed too).
    public func map<Input: Sequence, Output: Sendable>(
        _ input: Input,
        progress: (@Hub (MapProgress) -> Void)? = nil,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) async throws -> [Output] where Input.Element: Sendable {
        let run = PoolMapRun(pool: self, input: input, ordered: true, window: nil, progress: progress, body: body)
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
    /// - Parameters:
    ///   - input: the elements, read only as results are consumed.
    ///   - maxPending: results read ahead of the consumer (default: twice ``size``).
    ///   - progress: called on the hub after each call ends; see ``map(_:progress:_:)``.
    ///   - body: the function, called in a pool greenlet for each element.
    public func imap<Input: Sequence, Output: Sendable>(
        _ input: Input,
        maxPending: Int? = nil,
        progress: (@Hub (MapProgress) -> Void)? = nil,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) -> PoolMapSequence<Output> where Input.Element: Sendable {
        sequence(input, ordered: true, maxPending: maxPending, progress: progress, body)
    }

    /// Like ``imap(_:maxPending:progress:_:)``, but yields each result as soon as it is
    /// ready, whatever its place in the input — gevent's `Pool.imap_unordered`.
    public func imapUnordered<Input: Sequence, Output: Sendable>(
        _ input: Input,
        maxPending: Int? = nil,
        progress: (@Hub (MapProgress) -> Void)? = nil,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) -> PoolMapSequence<Output> where Input.Element: Sendable {
        sequence(input, ordered: false, maxPending: maxPending, progress: progress, body)
    }

    private func sequence<Input: Sequence, Output: Sendable>(
        _ input: Input,
        ordered: Bool,
        maxPending: Int?,
        progress: (@Hub (MapProgress) -> Void)?,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) -> PoolMapSequence<Output> where Input.Element: Sendable {
        let run = PoolMapRun(pool: self, input: input, ordered: ordered, window: maxPending ?? 2 * size,
                             progress: progress, body: body)
        return PoolMapSequence(owner: .init(next: { try await run.next() }, stop: { run.stop() }))
    }
}
