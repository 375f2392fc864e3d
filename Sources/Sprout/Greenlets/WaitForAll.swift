/// Waits until every other greenlet has finished, including those spawned meanwhile —
/// gevent's `gevent.wait()` with no arguments, "run until there is nothing left to do".
/// The calling greenlet (and, for a helper such as a ``withTimeout(_:_:)-(Double?,_)`` body, the
/// greenlet it acts for) is not waited for.
///
/// - Parameter timeout: give up after this many seconds (`nil`: no limit).
/// - Returns: `true` once no other greenlet runs, `false` if `timeout` passed first.
/// - Throws: `CancellationError` if the waiting greenlet is killed.
@Hub
@discardableResult
public func waitForAll(timeout: Double? = nil) async throws -> Bool {
    let me = GreenletRegistry.shared.current()?.context.id
    let deadline = Deadline(timeout: timeout)
    while true {
        let others = GreenletRegistry.shared.snapshot().filter { $0.context.id != me }.compactMap { $0 as? any Joinable }
        if others.isEmpty { return true }
        if deadline?.hasPassed == true { return false }
        try await joinAll(others, timeout: deadline?.secondsLeft)
    }
}
