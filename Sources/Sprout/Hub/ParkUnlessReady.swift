/// The wait of Event, Semaphore, a queue's `join`, a process pool and a child process:
/// parks the greenlet on a wait list until it is woken, `timeout` passes, or it is
/// killed — unless `ready()` says there is nothing to wait for.
///
/// `ready()` runs right before suspending, with `enlist` (adding the waiter to the list)
/// after it and no suspension in between: entering `park` may hop executors (a caller
/// that is not a greenlet), so whatever was checked before may have changed.
/// `ready()` may also take what it found (a semaphore's permit).
///
/// `purpose` names the operation in the error that says it would wait forever.
///
/// - Returns: `true` if ready or woken, `false` if `timeout` passed first.
/// - Throws: `CancellationError` if the greenlet is killed while waiting.
@Hub
func parkUnlessReady(
    timeout: Double?,
    purpose: StaticString = "a Sprout wait",
    ready: () -> Bool,
    enlist: (Waiter<Void>) -> Void,
    abandoned: () -> Void
) async throws -> Bool {
    if ready() { return true }
    let wake = await park(Waiter<Void>(purpose: purpose), timeout: timeout) { waiter in
        if ready() { waiter.wake() } else { enlist(waiter) }
    }
    switch wake {
    case .value: return true
    case .timedOut:
        abandoned()
        return false
    case .cancelled:
        abandoned()
        throw CancellationError()
    }
}
