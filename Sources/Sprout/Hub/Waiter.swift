/// How a parked greenlet was woken.
package enum Wake<Value: Sendable>: Sendable {
    /// Another greenlet (or a callback) woke it, handing over a value.
    case value(Value)
    /// Its deadline passed first.
    case timedOut
    /// Its task was cancelled (killed) first.
    case cancelled
}

/// One greenlet parked on the hub until it is woken, its deadline passes or it is
/// cancelled — whichever happens first; the others then do nothing.
///
/// This is the single suspension primitive of Sprout's waits: events, queues, locks,
/// joins and I/O all park a `Waiter` and wake it. A waiter that timed out or was
/// cancelled is *abandoned*: `wake` returns `false` for it, so a value offered to it
/// stays with the offerer and is never lost.
@Hub
package final class Waiter<Value: Sendable> {
    private var continuation: UnsafeContinuation<Wake<Value>, Never>?
    private var timer: HubTimer?
    private var cancelRequested = false
    /// Called once if the waiter times out or is cancelled, so a wait list can drop it.
    package var onAbandon: (() -> Void)?

    package init() {}

    /// True while the greenlet is parked and can still be woken.
    package var isWaiting: Bool { continuation != nil }

    /// Wakes the greenlet with `value`; returns `false` (and keeps nothing) if it is no
    /// longer waiting.
    @discardableResult
    package func wake(with value: Value) -> Bool {
        finish(.value(value))
    }

    private func finish(_ wake: Wake<Value>) -> Bool {
        guard let continuation else { return false }
        self.continuation = nil
        if let timer {
            LoopExecutor.shared.timers.cancel(timer)
            self.timer = nil
        }
        // Dropped in every case: the closure often captures the waiter itself, and a
        // woken waiter that kept it would never be freed (nor what else it captures).
        let abandon = onAbandon
        onAbandon = nil
        switch wake {
        case .value: break
        case .timedOut, .cancelled: abandon?()
        }
        continuation.resume(returning: wake)
        return true
    }

    fileprivate func park(_ continuation: UnsafeContinuation<Wake<Value>, Never>, timeout: Double?) {
        if cancelRequested {
            continuation.resume(returning: .cancelled)
            return
        }
        self.continuation = continuation
        if let timeout {
            timer = LoopExecutor.shared.timers.schedule(afterNanoseconds: nanoseconds(timeout)) { [self] in
                timer = nil
                _ = finish(.timedOut)
            }
        }
    }

    fileprivate func cancel() {
        if continuation == nil {
            cancelRequested = true
        } else {
            _ = finish(.cancelled)
        }
    }
}

extension Waiter where Value == Void {
    /// Wakes the greenlet; returns `false` if it is no longer waiting.
    @discardableResult
    package func wake() -> Bool { wake(with: ()) }
}

/// Parks the current greenlet on `waiter` until it is woken, `timeout` seconds pass, or
/// the task is cancelled. `register` runs before the greenlet suspends: it is where
/// the caller puts the waiter on its wait list.
@Hub
package func park<Value: Sendable>(
    _ waiter: Waiter<Value>,
    timeout: Double? = nil,
    register: (Waiter<Value>) -> Void = { _ in }
) async -> Wake<Value> {
    if Task.isCancelled { return .cancelled }
    if let timeout, timeout <= 0 { return .timedOut }
    let wake = await withTaskCancellationHandler {
        await withUnsafeContinuation { continuation in
            waiter.park(continuation, timeout: timeout)
            if waiter.isWaiting { register(waiter) }
        }
    } onCancel: {
        Hub.later { waiter.cancel() }
    }
    GreenletContext.noteRunning()
    return wake
}

/// Converts seconds to whole nanoseconds, saturating for huge or infinite values.
package func nanoseconds(_ seconds: Double) -> UInt64 {
    if !(seconds > 0) { return 0 }
    let value = seconds * 1e9
    return value >= Double(UInt64.max) ? .max : UInt64(value)
}
