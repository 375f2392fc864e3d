/// A queue between greenlets, gevent's `gevent.queue.Queue` family: ``put(_:timeout:)-(_,Double?)``
/// parks when the queue is full, ``get(timeout:)-(Double?)`` parks when it is empty, and both have
/// non-blocking forms. The buffer decides the order: use it through ``Queue``,
/// ``LifoQueue`` or ``PriorityQueue`` (and ``Channel`` for a queue without a buffer).
///
/// Waiters are served first come, first served: an item goes to the greenlet that has
/// waited longest, and a full queue accepts the putter that has waited longest.
/// A greenlet that times out or is killed while parked takes nothing with it: an item is
/// only ever handed to a waiter still waiting, so no item is lost or duplicated.
///
/// Every queue is also an `AsyncSequence` of its items that ends once it is closed and
/// drained, and counts unfinished items for ``taskDone()`` / ``join(timeout:)-(Double?)``
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

    @usableFromInline let core: QueueCore
    /// The items, typed: what a put or get that need not wait touches.
    @usableFromInline let items: TypedQueueStorage<Element>

    /// A queue holding at most `maxSize` items (`nil`: unbounded; `0`: hand-off only).
    public nonisolated init(maxSize: Int? = nil) {
        // Sprout's buffer kinds name their order; any other kind is first in, first out.
        items = TypedQueueStorage(order: (Buffer.self as? any OrderedQueueBuffer.Type)?.order ?? .fifo)
        core = QueueCore(maxSize: maxSize, storage: items)
    }

    /// The most items the queue holds; `nil` means no limit, and `0` means every put
    /// waits for a getter to take its item (a ``Channel``).
    public nonisolated var maxSize: Int? { core.maxSize }
    /// True once ``close()`` was called.
    public var isClosed: Bool { core.isClosed }
    /// How many items the queue holds now (gevent's `qsize`).
    public var count: Int { core.count }
    /// True when the queue holds no item.
    public var isEmpty: Bool { core.isEmpty }
    /// True when a put would have to wait.
    public var isFull: Bool { core.isFull }
    /// The item a get would return next, without taking it, or `nil` if the queue is empty
    /// (gevent's `peek_nowait`).
    public var peek: Element? { items.store.next }

    /// Puts `item` in the queue, parking while it is full.
    ///
    /// - Parameters:
    ///   - item: what to put.
    ///   - timeout: seconds to wait for room (`nil`: as long as it takes).
    /// - Throws: ``QueueError/closed`` if the queue is closed before or while waiting;
    ///   ``QueueError/full`` if `timeout` passes first; `CancellationError` if the greenlet
    ///   is killed while waiting. In every failure the item was not put.
    @inlinable @inline(__always)
    public nonisolated(nonsending) func put(_ item: Element, timeout: Double? = nil) async throws {
        // Inlined into the caller and run in its isolation: on the hub (a greenlet), a put
        // that need not wait is a few synchronous calls, with no executor check and no box.
        if Hub.isCurrent {
            let put: @Sendable @Hub ((GreenletQueue, Element)) throws(QueueError) -> Bool = {
                try $0.0.putWithoutWaiting($0.1)
            }
            if try Hub.onHubThread(put)((self, item)) { return }
            // A greenlet that must wait parks here too, reaching the hub's state through
            // synchronous steps: no async call into a `@Hub` function, no executor check.
            switch Hub.onHubThread(QueueCore.putterOnHub)((core, timeout)) {
            case .park(let waiter):
                // The item waits in transit, typed, under a ticket the core keeps with the waiter.
                let deposit: @Sendable @Hub ((TypedQueueStorage<Element>, Element)) -> Int = { $0.0.transit.deposit($0.1) }
                let takeBack: @Sendable @Hub ((TypedQueueStorage<Element>, Int)) -> Void = { _ = $0.0.transit.take($0.1) }
                let wake = await _unsafeInheritExecutor_withUnsafeContinuation { continuation in
                    let ticket = Hub.onHubThread(deposit)((items, item))
                    let enlisted = Hub.onHubThread(QueueCore.parkPutterOnHub)(
                        QueueCore.PutParking(core: core, waiter: waiter, continuation: continuation, ticket: ticket, timeout: timeout))
                    if !enlisted { Hub.onHubThread(takeBack)((items, ticket)) }
                }
                switch Hub.onHubThread(QueueCore.finishPutOnHub)((core, waiter, wake)) {
                case .done: return
                case .closed: throw QueueError.closed
                case .timedOut: throw QueueError.full
                case .cancelled: throw CancellationError()
                }
            case .waitAsTask: break
            case .cancelled: throw CancellationError()
            case .timedOut: throw QueueError.full
            }
        }
        try await core.putWaiting(item, timeout: timeout)
    }

    /// Puts `item` if that needs no waiting: into the buffer, or to a parked getter through
    /// transit — typed either way.
    ///
    /// - Throws: ``QueueError/closed`` if the queue is closed.
    @inlinable
    func putWithoutWaiting(_ item: Element) throws(QueueError) -> Bool {
        if try core.admitsBufferedPut() {
            items.store.insert(item)
            return true
        }
        if let getter = core.liveGetter() {
            core.hand(items.transit.deposit(item), to: getter)
            return true
        }
        // Every getter on the list had given up: there may be room after all.
        if try core.admitsBufferedPut() {
            items.store.insert(item)
            return true
        }
        return false
    }

    /// Puts `item` only if that needs no waiting (gevent's `put_nowait`).
    ///
    /// - Throws: ``QueueError/full`` if the queue is full (or, for a ``Channel``, no
    ///   getter is waiting); ``QueueError/closed`` if it is closed.
    @inlinable
    public func putNowait(_ item: Element) throws(QueueError) {
        guard try putWithoutWaiting(item) else { throw .full }
    }

    /// Takes the next item, parking while the queue is empty.
    ///
    /// - Parameter timeout: seconds to wait for an item (`nil`: as long as it takes).
    /// - Throws: ``QueueError/closed`` once the queue is closed and empty;
    ///   ``QueueError/empty`` if `timeout` passes first; `CancellationError` if the
    ///   greenlet is killed while waiting. In every failure no item was taken.
    @inlinable @inline(__always)
    public nonisolated(nonsending) func get(timeout: Double? = nil) async throws -> Element {
        if let item = try itemWithoutWaitingIfOnHub() { return item }
        if Hub.isCurrent {
            // Parks in place, like a put that must wait.
            switch Hub.onHubThread(QueueCore.getterOnHub)((core, timeout)) {
            case .park(let waiter):
                let wake = await _unsafeInheritExecutor_withUnsafeContinuation { continuation in
                    Hub.onHubThread(QueueCore.parkGetterOnHub)(
                        QueueCore.GetParking(core: core, waiter: waiter, continuation: continuation, timeout: timeout))
                }
                let (ticket, outcome) = Hub.onHubThread(QueueCore.finishGetOnHub)((core, waiter, wake))
                switch outcome {
                case .done:
                    let take: @Sendable @Hub ((TypedQueueStorage<Element>, Int)) -> Element = { $0.0.transit.take($0.1) }
                    return Hub.onHubThread(take)((items, ticket))
                case .closed: throw QueueError.closed
                case .timedOut: throw QueueError.empty
                case .cancelled: throw CancellationError()
                }
            case .waitAsTask: break
            case .cancelled: throw CancellationError()
            case .timedOut: throw QueueError.empty
            }
        }
        return try await core.getWaiting(timeout: timeout) as! Element
    }

    /// The next item when the caller is on the hub and one is there (buffered or from a
    /// parked putter); `nil` otherwise, and the caller takes the waiting path.
    ///
    /// - Throws: ``QueueError/closed`` if the queue is closed and empty.
    @inlinable
    nonisolated func itemWithoutWaitingIfOnHub() throws(QueueError) -> Element? {
        guard Hub.isCurrent else { return nil }
        let get: @Sendable @Hub (GreenletQueue) throws(QueueError) -> Element? = { try $0.itemWithoutWaiting() }
        return try Hub.onHubThread(get)(self)
    }

    /// The next item if one is there — from the buffer, or a parked putter's from transit,
    /// typed either way — with the core saying which and keeping count.
    ///
    /// - Throws: ``QueueError/closed`` if the queue is closed and holds no item.
    @inlinable
    func itemWithoutWaiting() throws(QueueError) -> Element? {
        if core.takesBufferedGet() { return items.store.removeNext() }
        switch core.takeRoute() {
        case .buffered(let moving):
            let item = items.store.removeNext()
            if let moving { items.store.insert(items.transit.take(moving)) }
            return item
        case .fromPutter(let ticket):
            return items.transit.take(ticket)
        case .nothing:
            if core.isClosed { throw .closed }
            return nil
        }
    }

    /// Takes the next item only if one is there now (gevent's `get_nowait`).
    ///
    /// - Throws: ``QueueError/empty`` if there is none (or, for a ``Channel``, no putter
    ///   is waiting); ``QueueError/closed`` if the queue is closed and empty.
    @inlinable
    public func getNowait() throws(QueueError) -> Element {
        guard let item = try itemWithoutWaiting() else { throw .empty }
        return item
    }

    /// Closes the queue: later puts throw ``QueueError/closed``, parked putters wake with
    /// that error (their items are not put), and once the items left are taken, gets
    /// throw it too and iteration ends. Closing twice does nothing.
    public func close() {
        core.close()
    }

    /// Marks one item taken from the queue as processed (gevent's `task_done`); when every
    /// item put so far is processed, ``join(timeout:)-(Double?)`` returns.
    ///
    /// - Throws: ``QueueError/taskDoneTooOften`` if called more often than items were put.
    public func taskDone() throws(QueueError) {
        try core.taskDone()
    }

    /// How many items were put and not yet marked done with ``taskDone()``.
    public var unfinishedTasks: Int { core.unfinishedTasks }

    /// Waits until every item put so far has been marked done with ``taskDone()``
    /// (gevent's `JoinableQueue.join`); returns `false` if `timeout` passed first.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed while waiting.
    @discardableResult
    public func join(timeout: Double? = nil) async throws -> Bool {
        try await core.join(timeout: timeout)
    }
}
