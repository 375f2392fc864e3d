/// Suspends the calling greenlet for `seconds` and lets every other greenlet and I/O
/// run meanwhile — gevent's `sleep`.
///
/// `sleep(0)` is a real cooperative switch: the greenlet goes to the back of the hub's
/// run queue, behind every greenlet that is ready, and resumes after them.
///
/// - Throws: `CancellationError` if the greenlet is killed (or an enclosing
///   ``withTimeout(_:_:)-(Double?,_)`` expires) before or while it sleeps.
@Hub
@inlinable
public func sleep(_ seconds: Double) async throws {
    // Inlined into the caller: a call between hub functions costs the Swift runtime an
    // executor check on the way in and one on the way out, each an executor-preference
    // lookup under the task's lock — two thirds of a `sleep(0)` switch when it was a call.
    if seconds <= 0 {
        try Task.checkCancellation()
        await _unsafeInheritExecutor_withUnsafeContinuation { resumeOnLaterTurn($0) }
        try Task.checkCancellation()
        return
    }
    try await sleepParked(seconds)
}

/// The rest of ``sleep(_:)``: parks on a timer. Sleeping greenlets can number in the
/// millions, and every byte of a suspended frame is held by each of them, so this path
/// is a function of its own and keeps the inlined part small.
@Hub
@usableFromInline
func sleepParked(_ seconds: Double) async throws {
    switch await park(Waiter<Void>(), timeout: seconds) {
    case .cancelled: throw CancellationError()
    case .timedOut, .value: return
    }
}
