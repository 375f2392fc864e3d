/// Suspends the calling greenlet for `seconds` and lets every other greenlet and I/O
/// run meanwhile — gevent's `sleep`.
///
/// `sleep(0)` is a real cooperative switch: the greenlet goes to the back of the hub's
/// run queue, behind every greenlet that is ready, and resumes after them.
///
/// - Throws: `CancellationError` if the greenlet is killed (or an enclosing
///   ``withTimeout(_:_:)-(Double?,_)`` expires) before or while it sleeps.
@Hub
public func sleep(_ seconds: Double) async throws {
    if seconds <= 0 {
        try await yieldToHub()
        return
    }
    // Sleeping greenlets can number in the millions: this path keeps its frame small
    // (see `Greenlet.run`), so the yield above lives in a function of its own.
    switch await park(Waiter<Void>(), timeout: seconds) {
    case .cancelled: throw CancellationError()
    case .timedOut, .value: return
    }
}

/// Goes to the back of the hub's run queue; `sleep(0)`.
@Hub
@inline(never)
private func yieldToHub() async throws {
    try Task.checkCancellation()
    await withUnsafeContinuation { LoopExecutor.shared.resumeLater($0) }
    try Task.checkCancellation()
}
