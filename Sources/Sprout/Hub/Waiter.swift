/// How a parked greenlet was woken.
@usableFromInline
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
/// stays with the offerer and is never lost. A wake that arrives after the waiter is
/// handed out but before its greenlet has parked is kept, and `park` returns it at once:
/// a task that hops to the hub may let others run between its check and its park.
@Hub
@usableFromInline
package final class Waiter<Value: Sendable>: ParkedWaiter {
    // Every field has a layout that does not depend on `Value` (the early wake is boxed):
    // destroying a generic class's field of type `Wake<Value>?` looks its metadata up at
    // run time, on every waiter's deinit. Exclusivity is not checked at run time: waiters
    // live on the hub thread, and the checks cost more than the rest of a wake.
    @exclusivity(unchecked) private var continuation: UnsafeContinuation<Wake<Value>, Never>?
    @exclusivity(unchecked) private var early: EarlyWake<Value>?
    @exclusivity(unchecked) private var finished = false
    @exclusivity(unchecked) private var timer: HubTimer?
    /// The greenlet parked in place on this waiter, from ``prepareToParkInPlace()`` to
    /// ``finishParkingInPlace()``.
    @exclusivity(unchecked) private var greenletParkedInPlace: (any RunningGreenlet)?
    /// Called once if the waiter times out or is cancelled, so a wait list can drop it.
    @exclusivity(unchecked) package var onAbandon: (() -> Void)?
    /// The operation that waits, for the error that says it would wait forever.
    package let purpose: StaticString
    /// What it waits for, when that has a name (the greenlet a join waits for).
    @exclusivity(unchecked) package var subject: (any WaitSubject)?

    /// A waiter for `purpose` ("Event.wait()"), which ``waitDescription`` names.
    package init(purpose: StaticString = "a Sprout wait") {
        self.purpose = purpose
    }

    /// The operation that waits, and what for when known: "join() of greenlet 'worker'".
    package var waitDescription: String {
        subject.map { "\(purpose) of \($0.waitName)" } ?? "\(purpose)"
    }

    /// True until the waiter has been woken, timed out or been cancelled.
    package var isWaiting: Bool { !finished }

    /// Makes a finished waiter ready to park again — for an owner that parks on the same
    /// waiter over and over and has checked that nothing else holds it any more.
    package func rearm() {
        precondition(finished && continuation == nil && timer == nil, "rearm of a waiter still in use")
        finished = false
        early = nil
    }

    /// Wakes the greenlet with `value`; returns `false` (and keeps nothing) if it is no
    /// longer waiting.
    @discardableResult
    package func wake(with value: Value) -> Bool {
        finish(.value(value))
    }

    private func finish(_ wake: Wake<Value>) -> Bool {
        guard !finished else { return false }
        finished = true
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
        if let continuation {
            self.continuation = nil
            continuation.resume(returning: wake)
        } else {
            early = EarlyWake(wake)
        }
        return true
    }

    fileprivate func park(_ continuation: UnsafeContinuation<Wake<Value>, Never>, timeout: Double?) {
        assert(Hub.isCurrent, "a Sprout wait parked off the hub thread")
        if let early {
            self.early = nil
            continuation.resume(returning: early.wake)
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

    func cancel() {
        _ = finish(.cancelled)
    }

    // MARK: Parking a greenlet
    //
    // The steps of a greenlet's wait, around the suspension the caller makes itself: `park`
    // below, and waits inlined into their callers (a stream's read), which then make no
    // call into a `@Hub` function — each costs an executor check in and one out, an
    // executor-preference lookup under the task's lock apiece.

    /// True when the running task is a greenlet, which ``parkInPlace(_:timeout:register:)``
    /// may then park; other tasks wait with ``parkRegisteredAsTask()``.
    func prepareToParkInPlace() -> Bool {
        guard let greenlet = GreenletRegistry.shared.greenlet(ofTask: LoopExecutor.shared.runningTask) else { return false }
        greenletParkedInPlace = greenlet
        return true
    }

    /// Parks the greenlet found by ``prepareToParkInPlace()`` on `continuation`; `register`
    /// puts the waiter on its wait list, unless it was woken before it could park.
    func parkInPlace(
        _ continuation: UnsafeContinuation<Wake<Value>, Never>,
        timeout: Double? = nil,
        register: (Waiter<Value>) -> Void = { _ in }
    ) {
        park(continuation, timeout: timeout)
        guard !finished, let greenletParkedInPlace else { return }
        register(self)
        // A greenlet's kill wakes the waiter it is parked on directly.
        greenletParkedInPlace.setParked(self)
        if Task.isCancelled { cancel() }
    }

    func finishParkingInPlace() {
        greenletParkedInPlace?.setParked(nil)
        greenletParkedInPlace = nil
    }

    /// Parks the running task on this waiter, already on its wait list, the way `park`
    /// does: for a task that is not a greenlet, and for hub-isolated callers (inlined there).
    @usableFromInline @inline(__always)
    func parkRegisteredAsTask() async -> Wake<Value> {
        let wake = await Sprout.park(self)
        // `park` returns `.cancelled` without parking for a cancelled task, and the waiter
        // must not stay on its list looking like it waits.
        if case .cancelled = wake { cancel() }
        return wake
    }
}

/// A wake that came before its waiter parked, kept until it does.
private final class EarlyWake<Value: Sendable> {
    let wake: Wake<Value>
    init(_ wake: Wake<Value>) { self.wake = wake }
}

extension Waiter where Value == Void {
    /// Wakes the greenlet; returns `false` if it is no longer waiting.
    @discardableResult
    package func wake() -> Bool { wake(with: ()) }
}

/// Parks the current greenlet on `waiter` until it is woken, `timeout` seconds pass, or
/// the task is cancelled. `register` runs before the greenlet suspends: it is where
/// the caller puts the waiter on its wait list.
///
/// Inlined into its callers: an async call between hub functions costs a hop check in
/// the runtime (an executor-preference lookup under a lock), the largest single cost of
/// a wait.
@Hub
@inline(__always)
package func park<Value: Sendable>(
    _ waiter: Waiter<Value>,
    timeout: Double? = nil,
    register: (Waiter<Value>) -> Void = { _ in }
) async -> Wake<Value> {
    if Task.isCancelled { return .cancelled }
    if let timeout, timeout <= 0 { return .timedOut }
    guard waiter.prepareToParkInPlace() else {
        return await parkOutsideGreenlet(waiter, timeout: timeout, register: register)
    }
    let wake = await _unsafeInheritExecutor_withUnsafeContinuation { continuation in
        waiter.parkInPlace(continuation, timeout: timeout, register: register)
    }
    waiter.finishParkingInPlace()
    return wake
}

/// Suspends on `waiter`; `register` runs on the hub before the task suspends, unless the
/// waiter was cancelled before it could park.
@Hub
private func suspend<Value: Sendable>(
    _ waiter: Waiter<Value>,
    timeout: Double?,
    register: (Waiter<Value>) -> Void
) async -> Wake<Value> {
    await withUnsafeContinuation { continuation in
        waiter.park(continuation, timeout: timeout)
        if waiter.isWaiting { register(waiter) }
    }
}

/// Parks a task that is not a greenlet (a task of the caller's, a timeout's child): Swift's
/// cancellation handler reaches the waiter. It costs about a kilobyte of task memory, so
/// greenlets take the direct path in `park`, and this lives in a function of its own
/// (an async frame is as large as its largest path).
@Hub
private func parkOutsideGreenlet<Value: Sendable>(
    _ waiter: Waiter<Value>,
    timeout: Double?,
    register: (Waiter<Value>) -> Void
) async -> Wake<Value> {
    // Isolated to the hub explicitly: a plain closure here runs on the task's generic
    // executor, and the hop there and back lets other greenlets run between the caller's
    // last check and the registration.
    await withTaskCancellationHandler { @Hub in
        await suspend(waiter, timeout: timeout, register: register)
    } onCancel: {
        Hub.later { waiter.cancel() }
    }
}

/// A parked waiter as a greenlet's kill sees it.
@Hub
protocol ParkedWaiter: AnyObject, Sendable {
    /// Wakes the waiter as cancelled, or makes its coming park return at once.
    func cancel()
    /// The operation that waits, and what for when known.
    var waitDescription: String { get }
}

/// Something a greenlet can wait for that has a name to give in an error (a greenlet,
/// an ``AsyncResult``, a job).
package protocol WaitSubject: AnyObject {
    /// How an error names it: "greenlet 'worker' (spawned at main.swift:12)".
    var waitName: String { get }
}

/// Converts seconds to whole nanoseconds, saturating for huge or infinite values.
package func nanoseconds(_ seconds: Double) -> UInt64 {
    if !(seconds > 0) { return 0 }
    let value = seconds * 1e9
    return value >= Double(UInt64.max) ? .max : UInt64(value)
}
