import Logging

/// The untyped engine under every ``GreenletQueue`` and ``Channel``: items travel as
/// `any Sendable`, so this code is compiled once, with no generic type to look up at run
/// time. (Unspecialized generic code spent over half its time in metadata lookups.)
/// A put or get of a buffered item does not come here for the item: the typed wrapper,
/// inlinable and so specialized in the caller's module, asks ``admitsBufferedPut()``
/// or ``takesBufferedGet()`` and moves the item in the typed store itself; only a
/// hand-off to or from a parked greenlet passes the item through here.
@usableFromInline
@Hub
final class QueueCore: Sendable {
    @usableFromInline typealias Item = any Sendable

    private enum Delivery: Sendable {
        case item(Item)
        case closed
    }

    // Hub-isolated, and no access to these overlaps another (a wake only schedules the
    // woken greenlet), so the run-time exclusivity checks, a sixth of a put/get, are off.
    private let buffer: any QueueStorage
    /// How many items the buffer holds, counted here: asking the typed store would run its
    /// generic code unspecialized, with metadata lookups, on every put and get.
    @exclusivity(unchecked) private var buffered = 0
    @exclusivity(unchecked) private var getters = WaitList<Delivery, Void>()
    /// Parked putters with their items; a `true` wake means the item was accepted.
    @exclusivity(unchecked) private var putters = WaitList<Bool, Item>()
    private var joiners = WaitList<Void, Void>()
    @exclusivity(unchecked) private var unfinished = 0

    @usableFromInline nonisolated let maxSize: Int?
    @exclusivity(unchecked) @usableFromInline private(set) var isClosed = false

    nonisolated init(maxSize: Int?, storage: any QueueStorage) {
        precondition((maxSize ?? 0) >= 0, "a queue's maxSize cannot be negative")
        self.maxSize = maxSize
        buffer = storage
    }

    @usableFromInline var count: Int { buffered }
    @usableFromInline var isEmpty: Bool { buffered == 0 }
    @usableFromInline var isFull: Bool { maxSize.map { buffered >= $0 } ?? false }

    // MARK: Putting

    /// The put that needs no waiting: `true` if `item` was taken or buffered. Synchronous,
    /// so the common case costs no executor check (each async call on a task with an
    /// executor preference takes a lock in the Swift runtime).
    @usableFromInline func putWithoutWaiting(_ item: Item) throws(QueueError) -> Bool {
        if isClosed { throw .closed }
        return offer(item)
    }

    /// The rest of a put, once ``putWithoutWaiting(_:)`` found no room.
    @usableFromInline func putWaiting(_ item: Item, timeout: Double?) async throws {
        // Tried again: a caller off the hub could not try before it got here.
        if try putWithoutWaiting(item) { return }
        // Entering `park` may hop executors (a caller that is not a greenlet), so the
        // state is looked at again where the waiter is registered, with no suspension between.
        let wake = await park(Waiter<Bool>(purpose: "a queue's put()"), timeout: timeout) { waiter in
            if isClosed {
                waiter.wake(with: false)
            } else if offer(item) {
                waiter.wake(with: true)
            } else {
                putters.append(waiter, item)
            }
        }
        switch wake {
        case .value(true): return
        case .value(false): throw QueueError.closed
        case .timedOut:
            putters.noteAbandoned()
            throw QueueError.full
        case .cancelled:
            putters.noteAbandoned()
            throw CancellationError()
        }
    }

    @usableFromInline func putNowait(_ item: Item) throws(QueueError) {
        if isClosed { throw .closed }
        if !offer(item) { throw .full }
    }

    private func offer(_ item: Item) -> Bool {
        if getters.popLive(waking: .item(item)) != nil {
            unfinished += 1
            return true
        }
        guard maxSize.map({ buffered < $0 }) ?? true else { return false }
        buffer.insert(item)
        buffered += 1
        unfinished += 1
        return true
    }

    @usableFromInline func putDetached(_ item: Item) {
        if isClosed {
            Hub.logger.warning("an item put from another thread reached a closed queue and was dropped")
        } else if !offer(item) {
            putters.append(nil, item)
        }
    }

    // MARK: Getting

    /// The get that needs no waiting: the next item, or `nil` if there is none yet.
    @usableFromInline func getWithoutWaiting() throws(QueueError) -> Item? {
        if let item = take() { return item }
        if isClosed { throw .closed }
        return nil
    }

    /// Whether a put may go straight into the buffer: the queue is open, no getter is
    /// parked (it would take the item) and there is room. When so, the item is counted
    /// (held, unfinished) from here, and the caller inserts it in the typed store.
    ///
    /// - Throws: ``QueueError/closed`` if the queue is closed.
    @usableFromInline func admitsBufferedPut() throws(QueueError) -> Bool {
        if isClosed { throw .closed }
        guard getters.isEmpty else { return false }
        if let maxSize, buffered >= maxSize { return false }
        buffered += 1
        unfinished += 1
        return true
    }

    /// Whether a get may take straight from the buffer: it holds an item and no putter is
    /// parked, whose item would move in behind it. When so, the item is no longer counted
    /// from here, and the caller removes it from the typed store.
    @usableFromInline func takesBufferedGet() -> Bool {
        guard buffered > 0, putters.isEmpty else { return false }
        buffered -= 1
        return true
    }

    /// The rest of a get, once ``getWithoutWaiting()`` found nothing.
    @usableFromInline func getWaiting(timeout: Double?) async throws -> Item {
        // Tried again: a caller off the hub could not try before it got here.
        if let item = try getWithoutWaiting() { return item }
        let wake = await park(Waiter<Delivery>(purpose: "a queue's get()"), timeout: timeout) { waiter in
            // Looked at again: see `put`.
            if let item = take() {
                waiter.wake(with: .item(item))
            } else if isClosed {
                waiter.wake(with: .closed)
            } else {
                getters.append(waiter, ())
            }
        }
        switch wake {
        case .value(.item(let item)): return item
        case .value(.closed): throw QueueError.closed
        case .timedOut:
            getters.noteAbandoned()
            throw QueueError.empty
        case .cancelled:
            getters.noteAbandoned()
            throw CancellationError()
        }
    }

    @usableFromInline func getNowait() throws(QueueError) -> Item {
        if let item = take() { return item }
        throw isClosed ? .closed : .empty
    }

    @usableFromInline func nextItem() async throws -> Item? {
        do {
            if let item = try getWithoutWaiting() { return item }
            return try await getWaiting(timeout: nil)
        } catch QueueError.closed {
            return nil
        }
    }

    private func take() -> Item? {
        if buffered > 0 {
            let item = buffer.removeNext()
            buffered -= 1
            if let moved = putters.popLive(waking: true) {
                buffer.insert(moved)
                buffered += 1
                unfinished += 1
            }
            return item
        }
        // Only a full zero-size queue (a channel) has putters while its buffer is empty.
        guard let item = putters.popLive(waking: true) else { return nil }
        unfinished += 1
        return item
    }

    // MARK: Closing

    @usableFromInline func close() {
        guard !isClosed else { return }
        isClosed = true
        getters.wakeAll(with: .closed)
        let dropped = putters.wakeAll(with: false)
        if dropped > 0 {
            Hub.logger.warning("a queue was closed with \(dropped) item(s) put from another thread still waiting for room; they were dropped")
        }
    }

    // MARK: Tasks (gevent's JoinableQueue)

    @usableFromInline func taskDone() throws(QueueError) {
        guard unfinished > 0 else { throw .taskDoneTooOften }
        unfinished -= 1
        if unfinished == 0 { joiners.wakeAll(with: ()) }
    }

    @usableFromInline var unfinishedTasks: Int { unfinished }

    @usableFromInline func join(timeout: Double? = nil) async throws -> Bool {
        try await parkUnlessReady(
            timeout: timeout,
            ready: { unfinished == 0 },
            enlist: { joiners.append($0, ()) },
            abandoned: { joiners.noteAbandoned() }
        )
    }
}
