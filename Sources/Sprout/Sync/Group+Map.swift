extension Group {
    /// Calls `body` on every element of `input`, each in a greenlet of its own in the
    /// group, all at once, and returns the results in input order — gevent's `Group.map`.
    /// For a bound on how many run at once, use a ``Pool``.
    ///
    /// - Throws: the first error `body` throws (the calls still running are then killed,
    ///   and the others' errors are not reported); ``GreenletExit`` if a call was killed
    ///   from outside; `CancellationError` if the calling greenlet is killed (the calls
    ///   are killed too).
    public func map<Input: Sequence, Output: Sendable>(
        _ input: Input,
        _ body: @escaping @Hub @Sendable (Input.Element) async throws -> Output
    ) async throws -> [Output] where Input.Element: Sendable {
        let calls = input.map { element in spawn { try await body(element) } }
        var results: [Output] = []
        results.reserveCapacity(calls.count)
        do {
            try await joinAll(calls, raiseError: true)
            for call in calls { results.append(try await call.get()) }
        } catch {
            for call in calls { call.cancel() }
            for call in calls { call.markObserved() }
            throw error
        }
        return results
    }
}
