/// A greenlet whatever its value type — what ``currentGreenlet()`` returns, since the code
/// asking does not know what the greenlet it runs in will produce.
public protocol AnyGreenlet: Joinable {
    /// The greenlet's id, name and spawn location.
    var context: GreenletContext { get }

    /// Kills the greenlet and, when `block` is true, waits up to `timeout` seconds (forever
    /// when `nil`) for it to finish — gevent's `kill`.
    ///
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @Hub func kill(block: Bool, timeout: Double?) async throws
}

extension AnyGreenlet {
    /// Waits without a time limit until it has finished; see ``Joinable/join(timeout:)``.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet itself is killed.
    @Hub
    @discardableResult
    public func join() async throws -> Bool {
        try await join(timeout: nil)
    }

    /// Kills the greenlet and waits for it to finish; see ``AnyGreenlet/kill(block:timeout:)``.
    ///
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @Hub
    public func kill() async throws {
        try await kill(block: true, timeout: nil)
    }
}

extension Greenlet: AnyGreenlet {}

/// The greenlet the caller runs in — inside a ``withTimeout(_:_:)-(Double?,_)`` body, the greenlet that
/// called it — or `nil` outside any greenlet: gevent's `getcurrent()`. The handle can be
/// joined, killed (the caller's next Sprout wait throws `CancellationError`) or handed to
/// another greenlet that does so.
public func currentGreenlet() -> (any AnyGreenlet)? {
    // Every greenlet in the hub's table is a `Greenlet`; the table holds it as the hub's
    // `RunningGreenlet`, since the hub may not name a type from this layer.
    GreenletRegistry.shared.current() as? any AnyGreenlet
}
