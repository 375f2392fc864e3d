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
    private enum State {
        case idle
        /// On a wait list, but the greenlet has not suspended yet (a task that is not a
        /// greenlet may hop executors in between); an outcome arriving now is kept.
        case armed
        case parked(UnsafeContinuation<Wake<Value>, Never>)
        /// Finished while armed: the outcome the greenlet takes when it suspends.
        case early(Wake<Value>)
        case done
    }

    private var state = State.idle
    private var timer: HubTimer?
    /// Called once if the waiter times out or is cancelled, so a wait list can drop it.
    package var onAbandon: (() -> Void)?

    package init() {}

    /// True while the greenlet is parked (or about to be) and can still be woken.
    package var isWaiting: Bool {
        switch state {
        case .armed, .parked: true
        case .idle, .early, .done: false
        }
    }

    /// Wakes the greenlet with `value`; returns `false` (and keeps nothing) if it is no
    /// longer waiting.
    @discardableResult
    package func wake(with value: Value) -> Bool {
        finish(.value(value))
    }

    private func finish(_ wake: Wake<Value>) -> Bool {
        let continuation: UnsafeContinuation<Wake<Value>, Never>?
        switch state {
        case .armed: continuation = nil
        case .parked(let parked): continuation = parked
        case .idle, .early, .done: return false
        }
        state = continuation == nil ? .early(wake) : .done
        if let timer {
            LoopExecutor.shared.timers.cancel(timer)
            self.timer = nil
        }
        switch wake {
        case .value: break
        case .timedOut, .cancelled:
            let abandon = onAbandon
            onAbandon = nil
            abandon?()
        }
        continuation?.resume(returning: wake)
        return true
    }

    /// Makes the waiter wakeable and starts its deadline, before the greenlet suspends,
    /// so that it can be put on a wait list with no suspension point in between.
    fileprivate func arm(timeout: Double?) {
        state = .armed
        if let timeout {
            timer = LoopExecutor.shared.timers.schedule(afterNanoseconds: nanoseconds(timeout)) { [self] in
                timer = nil
                _ = finish(.timedOut)
            }
        }
    }

    fileprivate func park(_ continuation: UnsafeContinuation<Wake<Value>, Never>) {
        switch state {
        case .early(let wake):
            state = .done
            continuation.resume(returning: wake)
        default:
            state = .parked(continuation)
        }
    }

    fileprivate func cancel() {
        switch state {
        case .armed, .parked: _ = finish(.cancelled)
        case .idle, .early, .done: break
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
    // Register before suspending: `withTaskCancellationHandler` may hop executors first
    // (for a task that is not a greenlet), and a wait list must not miss a wake-up then.
    waiter.arm(timeout: timeout)
    register(waiter)
    let wake = await withTaskCancellationHandler {
        await withUnsafeContinuation { continuation in
            waiter.park(continuation)
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
