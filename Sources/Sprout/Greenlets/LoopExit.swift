/// The main greenlet waited with nothing left that could wake it — gevent's `LoopExit`,
/// "This operation would block forever". ``Hub/run(logger:_:)`` throws it instead of hanging.
///
/// "Nothing left" means the hub has no pending timer or deadline, no socket or pipe being
/// read or listened on, no request in flight (a write, DNS, a file), no child process, no
/// `Signals` watcher, no ``offloadBlocking(_:)`` call and no greenlet ready to run. A wake
/// that would come from a thread Sprout did not start (your own thread calling
/// ``AsyncResult/set(_:)``) cannot be foreseen: run such work through ``offloadBlocking(_:)``.
public struct LoopExit: Error, CustomStringConvertible, Sendable {
    /// The wait the main greenlet was parked in: "Event.wait()", "join() or get() of greenlet
    /// 'worker' (spawned at main.swift:4)".
    public let waitingIn: String

    public var description: String {
        "This operation would block forever: the main greenlet waits in \(waitingIn), and nothing is left "
            + "that could wake it (no timer, socket, child process, signal watcher or thread work, and no other greenlet can run)"
    }
}
