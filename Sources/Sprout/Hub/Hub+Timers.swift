extension Hub {
    /// Runs `action` on the hub once `seconds` have passed, unless ``cancelTimer(_:)`` comes
    /// first: a slot on the hub's one timer heap, no libuv handle. How the layers above the
    /// hub schedule work for later (a timeout, a linger, a sweep).
    @Hub
    package static func schedule(after seconds: Double, _ action: @escaping () -> Void) -> HubTimer {
        LoopExecutor.shared.timers.schedule(afterNanoseconds: nanoseconds(seconds), action)
    }

    /// ``schedule(after:_:)`` with the delay in nanoseconds.
    @Hub
    package static func schedule(afterNanoseconds nanoseconds: UInt64, _ action: @escaping () -> Void) -> HubTimer {
        LoopExecutor.shared.timers.schedule(afterNanoseconds: nanoseconds, action)
    }

    /// Cancels a timer made by ``schedule(after:_:)``: its action never runs. A timer that
    /// already fired or was cancelled is left alone.
    @Hub
    package static func cancelTimer(_ timer: HubTimer) {
        LoopExecutor.shared.timers.cancel(timer)
    }

    /// Asks the hub to spin briefly before it sleeps in its poll, until a matching
    /// ``releasePollSpin()``: for a caller that expects an answer within microseconds (a
    /// pool worker's). See ``PollSpin``.
    @Hub
    package static func requestPollSpin() {
        LoopExecutor.shared.pollSpin.request()
    }

    /// Withdraws one ``requestPollSpin()``.
    @Hub
    package static func releasePollSpin() {
        LoopExecutor.shared.pollSpin.release()
    }
}
