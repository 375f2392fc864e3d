/// Suspends the calling greenlet for `seconds` and lets every other greenlet and I/O
/// run meanwhile — gevent's `sleep`.
///
/// `sleep(0)` is a real cooperative switch: the greenlet goes to the back of the hub's
/// run queue, behind every greenlet that is ready, and resumes after them.
///
/// - Throws: `CancellationError` if the greenlet is killed (or an enclosing
///   ``withTimeout(_:_:)`` expires) before or while it sleeps.
@Hub
public func sleep(_ seconds: Double) async throws {
    try Task.checkCancellation()
    if seconds <= 0 {
        await withUnsafeContinuation { LoopExecutor.shared.resumeLater($0) }
        GreenletContext.noteRunning()
        try Task.checkCancellation()
        return
    }
    switch await park(Waiter<Void>(), timeout: seconds) {
    case .cancelled: throw CancellationError()
    case .timedOut, .value: return
    }
}
