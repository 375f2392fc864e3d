import DequeModule

/// A first-come first-served list of parked waiters, each with a payload (a putter's item,
/// say), shared by every Sync primitive.
///
/// Abandoned waiters (timed out or killed) are dropped lazily: ``popLive(waking:)`` skips
/// them because `Waiter.wake` refuses them, and ``noteAbandoned()`` compacts the list once
/// they make up half of it, so a storm of timeouts cannot grow it without bound.
/// An entry without a waiter is *detached* (a put from another thread): always live.
@Hub
struct WaitList<Value: Sendable, Payload> {
    private var entries = Deque<(waiter: Waiter<Value>?, payload: Payload)>()
    private var abandoned = 0

    nonisolated init() {}

    /// True when no entry, live or abandoned, is left.
    var isEmpty: Bool { entries.isEmpty }

    mutating func append(_ waiter: Waiter<Value>?, _ payload: Payload) {
        entries.append((waiter, payload))
    }

    /// Wakes the oldest live waiter with `value` and returns its payload; `nil` if none is left.
    /// The payloads of abandoned waiters passed over go to `drop`.
    mutating func popLive(waking value: Value, dropping drop: (Payload) -> Void = { _ in }) -> Payload? {
        while let entry = entries.popFirst() {
            if entry.waiter?.wake(with: value) ?? true { return entry.payload }
            drop(entry.payload)
        }
        return nil
    }

    /// Removes and returns the oldest waiter still waiting, not yet woken, so the caller can
    /// prepare what it wakes it with; `nil` if none is left. For lists without detached
    /// entries, whose payloads need no dropping.
    mutating func popLiveWaiter() -> Waiter<Value>? {
        while let entry = entries.popFirst() {
            if let waiter = entry.waiter, waiter.isWaiting { return waiter }
        }
        return nil
    }

    /// Wakes every live waiter with `value` and empties the list, every payload going to
    /// `drop`; returns how many detached entries were dropped with it.
    @discardableResult
    mutating func wakeAll(with value: Value, dropping drop: (Payload) -> Void = { _ in }) -> Int {
        var detached = 0
        for entry in entries {
            if let waiter = entry.waiter { waiter.wake(with: value) } else { detached += 1 }
            drop(entry.payload)
        }
        entries.removeAll()
        abandoned = 0
        return detached
    }

    /// Called by a waiter that came back timed out or cancelled; the payloads of the
    /// abandoned entries removed go to `drop`.
    mutating func noteAbandoned(dropping drop: (Payload) -> Void = { _ in }) {
        abandoned += 1
        if abandoned >= 16, abandoned * 2 >= entries.count {
            entries.removeAll { entry in
                if entry.waiter?.isWaiting ?? true { return false }
                drop(entry.payload)
                return true
            }
            abandoned = 0
        }
    }
}
