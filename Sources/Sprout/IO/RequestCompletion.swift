/// Carries the result of one libuv request (connect, resolve, shutdown, fs) from its
/// callback to the parked greenlet.
///
/// libuv always calls a request's callback exactly once — with `UV_ECANCELED` when the
/// request was cancelled or its handle closed — so the request's `data` holds a retained
/// reference that the callback takes back. A greenlet that stopped waiting (timeout, kill)
/// leaves the completion behind; the late callback then finds the waiter abandoned and
/// simply releases everything.
@Hub
final class RequestCompletion<Value: Sendable> {
    let waiter = Waiter<Value>()
    /// What the request's memory depends on (a read buffer), released only with the
    /// completion, after the callback — even when the greenlet stopped waiting.
    var keepAlive: AnyObject?

    init() {}

    /// A retained reference for a request's `data` field.
    func retainedPointer() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(self).toOpaque()
    }

    /// Takes back the reference stored by ``retainedPointer()``; call once, in the callback.
    nonisolated static func take(_ pointer: UnsafeMutableRawPointer?) -> RequestCompletion {
        Unmanaged<RequestCompletion>.fromOpaque(pointer!).takeRetainedValue()
    }
}
