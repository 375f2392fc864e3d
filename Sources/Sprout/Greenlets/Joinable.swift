/// Something that finishes once, with a value or an error: a ``Greenlet`` or a process
/// pool's job handle. ``joinAll(_:timeout:raiseError:count:)-([Joinable],Double?,_,_)`` and ``iwait(_:timeout:count:)-([Joinable],Double?,Int?)``
/// take any mix of them, so a greenlet and a process job are awaited the same way.
public protocol Joinable: AnyObject, Sendable {
    /// What a successful run produces.
    associatedtype Value: Sendable

    /// True once it has finished, successfully or not.
    var isReady: Bool { get }
    /// True once it has finished with a value.
    var isSuccessful: Bool { get }

    /// Waits until it has finished or `timeout` seconds have passed (forever when `nil`);
    /// returns ``isReady``. Never throws the outcome's error.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet itself is killed.
    @Hub func join(timeout: Double?) async throws -> Bool

    /// Waits for the outcome and returns its value.
    ///
    /// - Throws: the error it ended with; ``Timeout`` if `timeout` passes first;
    ///   `CancellationError` if the waiting greenlet is killed.
    @Hub func get(timeout: Double?) async throws -> Value

    /// Asks it to stop (kill a greenlet, cancel a job) without waiting.
    func cancel()

    /// Calls `callback` on the hub once it has finished (at once, on a later turn, if it
    /// already has) — gevent's `link`.
    func onDone(_ callback: @escaping @Sendable @Hub () -> Void)

    /// Marks its error as seen, so it is not reported as unobserved.
    func markObserved()

    /// The error it ended with, if any; reading it counts as observing it.
    var error: (any Error)? { get }
}
