/// A flag greenlets can wait for — gevent's `Event`: ``wait(timeout:)-(Double?)`` parks until
/// someone calls ``set()``, then every waiter wakes (in the order they came) and later
/// waits return at once until ``clear()``.
///
/// The event is bound to the hub; another thread sets it with ``setFromAnyThread()``.
///
/// ```swift
/// let ready = Event()
/// spawn { try await sleep(0.1); ready.set() }
/// try await ready.wait()        // true once set; false if a timeout passes first
/// ```
@Hub
public final class Event: Sendable {
    private var waiters = WaitList<Void, Void>()

    /// True while the event is set.
    public private(set) var isSet = false

    /// A new, unset event.
    public nonisolated init() {}

    /// Sets the event and wakes every greenlet waiting for it.
    public func set() {
        guard !isSet else { return }
        isSet = true
        waiters.wakeAll(with: ())
    }

    /// Sets the event from any thread: it is set on the hub's next turn. From hub code
    /// call ``set()`` (the rest of the event is hub-isolated).
    public nonisolated func setFromAnyThread() {
        Hub.later { [self] in set() }
    }

    /// Unsets the event; later waits park again.
    public func clear() {
        isSet = false
    }

    /// Waits until the event is set, or `timeout` seconds pass (forever when `nil`).
    ///
    /// - Returns: whether the event was set (`false` only on timeout).
    /// - Throws: `CancellationError` if the greenlet is killed while waiting.
    @discardableResult
    public func wait(timeout: Double? = nil) async throws -> Bool {
        try await parkUnlessReady(
            timeout: timeout,
            purpose: "Event.wait()",
            ready: { isSet },
            enlist: { waiters.append($0, ()) },
            abandoned: { waiters.noteAbandoned() }
        )
    }
}
