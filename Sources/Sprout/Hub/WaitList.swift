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
    mutating func popLive(waking value: Value) -> Payload? {
        while let entry = entries.popFirst() {
            if entry.waiter?.wake(with: value) ?? true { return entry.payload }
        }
        return nil
    }

    /// Wakes every live waiter with `value` and empties the list; returns how many
    /// detached entries were dropped with it.
    @discardableResult
    mutating func wakeAll(with value: Value) -> Int {
        var detached = 0
        for entry in entries {
            if let waiter = entry.waiter { waiter.wake(with: value) } else { detached += 1 }
        }
        entries.removeAll()
        abandoned = 0
        return detached
    }

    /// Called by a waiter that came back timed out or cancelled.
    mutating func noteAbandoned() {
        abandoned += 1
        if abandoned >= 16, abandoned * 2 >= entries.count {
            entries.removeAll { !($0.waiter?.isWaiting ?? true) }
            abandoned = 0
        }
    }
}
