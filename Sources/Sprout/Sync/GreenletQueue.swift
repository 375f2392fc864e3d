/// A queue between greenlets, gevent's `gevent.queue.Queue` family: ``put(_:timeout:)``
/// parks when the queue is full, ``get(timeout:)`` parks when it is empty, and both have
/// non-blocking forms. The buffer decides the order: use it through ``Queue``,
/// ``LifoQueue`` or ``PriorityQueue`` (and ``Channel`` for a queue without a buffer).
///
/// Waiters are served first come, first served: an item goes to the greenlet that has
/// waited longest, and a full queue accepts the putter that has waited longest.
/// A greenlet that times out or is killed while parked takes nothing with it: an item is
/// only ever handed to a waiter still waiting, so no item is lost or duplicated.
///
/// Every queue is also an `AsyncSequence` of its items that ends once it is closed and
/// drained, and counts unfinished items for ``taskDone()`` / ``join(timeout:)``
/// (gevent's `JoinableQueue`).
///
/// The queue is bound to the hub; from another thread use ``putFromAnyThread(_:)``.
///
/// ```swift
/// let queue = Queue<Int>(maxSize: 10)
/// spawn { for i in 0..<100 { try await queue.put(i) }; queue.close() }
/// for try await item in queue { print(item) }
/// ```
@Hub
public final class GreenletQueue<Buffer: QueueBuffer>: Sendable {
    /// What the queue carries.
    public typealias Element = Buffer.Element

    private enum Delivery: Sendable {
        case item(Element)
        case closed
    }

    private var buffer = Buffer()
    private var getters = WaitList<Delivery, Void>()
    /// Parked putters with their items; a `true` wake means the item was accepted.
    private var putters = WaitList<Bool, Element>()
    private var joiners = WaitList<Void, Void>()
    private var unfinished = 0

    /// The most items the queue holds; `nil` means no limit, and `0` means every put
    /// waits for a getter to take its item (a ``Channel``).
    public nonisolated let maxSize: Int?
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// A queue holding at most `maxSize` items (`nil`: unbounded; `0`: hand-off only).
    public nonisolated init(maxSize: Int? = nil) {
        precondition((maxSize ?? 0) >= 0, "a queue's maxSize cannot be negative")
        self.maxSize = maxSize
    }

    /// How many items the queue holds now (gevent's `qsize`).
    public var count: Int { buffer.count }
    /// True when the queue holds no item.
    public var isEmpty: Bool { buffer.count == 0 }
    /// True when a put would have to wait.
    public var isFull: Bool { maxSize.map { buffer.count >= $0 } ?? false }

    /// The item a get would return next, without taking it, or `nil` if the queue is empty
    /// (gevent's `peek_nowait`).
    public var peek: Element? { buffer.next }

    // MARK: Putting

    /// Puts `item` in the queue, parking while it is full.
    ///
    /// - Parameter timeout: seconds to wait for room (`nil`: as long as it takes).
    /// - Throws: ``QueueError/closed`` if the queue is closed before or while waiting (the
    ///   item was not put); ``QueueError/full`` if `timeout` passes first;
    ///   `CancellationError` if the greenlet is killed while waiting. In every failure the
    ///   item was not put.
    public func put(_ item: Element, timeout: Double? = nil) async throws {
        if isClosed { throw QueueError.closed }
        if offer(item) { return }
        let waiter = Waiter<Bool>()
        let wake = await park(waiter, timeout: timeout) { putters.append($0, item) }
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

    /// Puts `item` only if that needs no waiting (gevent's `put_nowait`).
    ///
    /// - Throws: ``QueueError/full`` if the queue is full (or, for a ``Channel``, no
    ///   getter is waiting); ``QueueError/closed`` if it is closed.
    public func putNowait(_ item: Element) throws(QueueError) {
        if isClosed { throw .closed }
        if !offer(item) { throw .full }
    }

    /// Hands `item` to the longest-waiting getter, or buffers it if there is room.
    /// A buffered item means no getter is waiting, so the buffer is only tried second.
    private func offer(_ item: Element) -> Bool {
        if getters.popLive(waking: .item(item)) != nil {
            unfinished += 1
            return true
        }
        guard maxSize.map({ buffer.count < $0 }) ?? true else { return false }
        buffer.insert(item)
        unfinished += 1
        return true
    }

    /// Accepts an item that came from another thread: taken or buffered if possible,
    /// otherwise queued behind the parked putters, in arrival order.
    func putDetached(_ item: Element) {
        if isClosed {
            HubDiagnostics.report("Sprout: an item put from another thread reached a closed queue and was dropped")
        } else if !offer(item) {
            putters.append(nil, item)
        }
    }

    // MARK: Getting

    /// Takes the next item, parking while the queue is empty.
    ///
    /// - Parameter timeout: seconds to wait for an item (`nil`: as long as it takes).
    /// - Throws: ``QueueError/closed`` once the queue is closed and empty;
    ///   ``QueueError/empty`` if `timeout` passes first; `CancellationError` if the
    ///   greenlet is killed while waiting. In every failure no item was taken.
    public func get(timeout: Double? = nil) async throws -> Element {
        if let item = take() { return item }
        if isClosed { throw QueueError.closed }
        let waiter = Waiter<Delivery>()
        let wake = await park(waiter, timeout: timeout) { getters.append($0, ()) }
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

    /// Takes the next item only if one is there now (gevent's `get_nowait`).
    ///
    /// - Throws: ``QueueError/empty`` if there is none (or, for a ``Channel``, no putter
    ///   is waiting); ``QueueError/closed`` if the queue is closed and empty.
    public func getNowait() throws(QueueError) -> Element {
        if let item = take() { return item }
        throw isClosed ? .closed : .empty
    }

    /// The next item, or `nil` once the queue is closed and empty: what iteration yields.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed while waiting.
    func nextItem() async throws -> Element? {
        do {
            return try await get()
        } catch QueueError.closed {
            return nil
        }
    }

    /// Removes the next item, letting the longest-waiting putter into the room it leaves.
    private func take() -> Element? {
        if buffer.count > 0 {
            let item = buffer.removeNext()
            if let moved = putters.popLive(waking: true) {
                buffer.insert(moved)
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

    /// Closes the queue: later puts throw ``QueueError/closed``, parked putters wake with
    /// that error (their items are not put), and once the items left are taken, gets
    /// throw it too and iteration ends. Closing twice does nothing.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        getters.wakeAll(with: .closed)
        let dropped = putters.wakeAll(with: false)
        if dropped > 0 {
            HubDiagnostics.report("Sprout: a queue was closed with \(dropped) item(s) put from another thread still waiting for room; they were dropped")
        }
    }

    // MARK: Tasks (gevent's JoinableQueue)

    /// Marks one item taken from the queue as processed (gevent's `task_done`); when every
    /// item put so far is processed, ``join(timeout:)`` returns.
    ///
    /// - Throws: ``QueueError/taskDoneTooOften`` if called more often than items were put.
    public func taskDone() throws(QueueError) {
        guard unfinished > 0 else { throw .taskDoneTooOften }
        unfinished -= 1
        if unfinished == 0 { joiners.wakeAll(with: ()) }
    }

    /// How many items were put and not yet marked done with ``taskDone()``.
    public var unfinishedTasks: Int { unfinished }

    /// Waits until every item put so far has been marked done with ``taskDone()``
    /// (gevent's `JoinableQueue.join`); returns `false` if `timeout` passed first.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed while waiting.
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        if unfinished == 0 { return true }
        let wake = await park(Waiter<Void>(), timeout: timeout) { joiners.append($0, ()) }
        switch wake {
        case .value: return true
        case .timedOut:
            joiners.noteAbandoned()
            return false
        case .cancelled:
            joiners.noteAbandoned()
            throw CancellationError()
        }
    }
}
