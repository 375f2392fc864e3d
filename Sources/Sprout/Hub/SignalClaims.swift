/// The signals the program handles itself: IO's `Signals` claims each signal it watches
/// and releases it on close, and the program's default shutdown on SIGINT/SIGTERM
/// (``Hub/run(logger:_:)``) leaves a claimed signal alone — as a Python handler installed with
/// `signal.signal` replaces `KeyboardInterrupt`. Hub-thread only.
@Hub
package enum SignalClaims {
    /// How many open claims each signal has.
    private static var claims: [Int32: Int] = [:]

    /// Adds one claim on `signal`.
    package static func claim(_ signal: Int32) {
        claims[signal, default: 0] += 1
    }

    /// Drops one claim on `signal` made with ``claim(_:)``.
    package static func release(_ signal: Int32) {
        guard let count = claims[signal] else { return }
        claims[signal] = count > 1 ? count - 1 : nil
    }

    /// True while someone claims `signal`.
    package static func isClaimed(_ signal: Int32) -> Bool {
        claims[signal] != nil
    }
}
