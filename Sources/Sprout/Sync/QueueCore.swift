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

    /// What a parked getter is woken with.
    @usableFromInline
    enum Delivery: Sendable {
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
    /// A waiter for the next parked put or get: the last one, if nothing holds it any more,
    /// since allocating and releasing one was a tenth of a channel hand-off.
    @exclusivity(unchecked) private var sparePutter: Waiter<Bool>?
    @exclusivity(unchecked) private var spareGetter: Waiter<Delivery>?

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

    // MARK: Parking a greenlet in place (the waits inlined into put and get)
    //
    // A greenlet's put or get that must wait runs in the caller (GreenletQueue), which
    // reaches the hub's state only through these synchronous steps: an async call into a
    // `@Hub` function costs an executor check on the way in and one on the way out.

    /// What a put or get that must wait does next.
    @usableFromInline
    enum ParkingStep<Value: Sendable> {
        /// Park the greenlet in place on this waiter.
        case park(Waiter<Value>)
        /// The caller is not a greenlet: it waits the way any task does.
        case waitAsTask
        /// The greenlet was killed before it could wait.
        case cancelled
        /// The timeout was not positive.
        case timedOut
    }

    /// How a parked put or get ended, its item aside.
    @usableFromInline
    enum ParkingOutcome {
        case done
        case closed
        case timedOut
        case cancelled
    }

    /// A put about to park: what the step that parks it needs.
    @usableFromInline
    struct PutParking {
        @usableFromInline let core: QueueCore
        @usableFromInline let waiter: Waiter<Bool>
        @usableFromInline let continuation: UnsafeContinuation<Wake<Bool>, Never>
        @usableFromInline let item: Item
        @usableFromInline let timeout: Double?

        @inlinable
        init(core: QueueCore, waiter: Waiter<Bool>, continuation: UnsafeContinuation<Wake<Bool>, Never>, item: Item, timeout: Double?) {
            self.core = core
            self.waiter = waiter
            self.continuation = continuation
            self.item = item
            self.timeout = timeout
        }
    }

    /// A get about to park.
    @usableFromInline
    struct GetParking {
        @usableFromInline let core: QueueCore
        @usableFromInline let waiter: Waiter<Delivery>
        @usableFromInline let continuation: UnsafeContinuation<Wake<Delivery>, Never>
        @usableFromInline let timeout: Double?

        @inlinable
        init(core: QueueCore, waiter: Waiter<Delivery>, continuation: UnsafeContinuation<Wake<Delivery>, Never>, timeout: Double?) {
            self.core = core
            self.waiter = waiter
            self.continuation = continuation
            self.timeout = timeout
        }
    }

    /// The step before a put parks, right after it found no room (no suspension between):
    /// a waiter for the running greenlet, as `park` would decide.
    @usableFromInline nonisolated static let putterOnHub: @Sendable @Hub ((QueueCore, Double?)) -> ParkingStep<Bool> = {
        let (core, timeout) = $0
        return parkingStep(timeout: timeout, waiter: core.reusable(&core.sparePutter, purpose: "a queue's put()"))
    }

    @usableFromInline nonisolated static let parkPutterOnHub: @Sendable @Hub (PutParking) -> Void = { parking in
        parking.waiter.parkInPlace(parking.continuation, timeout: parking.timeout) { waiter in
            parking.core.putters.append(waiter, parking.item)
        }
    }

    @usableFromInline nonisolated static let finishPutOnHub: @Sendable @Hub ((QueueCore, Waiter<Bool>, Wake<Bool>)) -> ParkingOutcome = {
        let (core, waiter, wake) = $0
        waiter.finishParkingInPlace()
        switch wake {
        case .value(true): return .done
        case .value(false): return .closed
        case .timedOut:
            core.putters.noteAbandoned()
            return .timedOut
        case .cancelled:
            core.putters.noteAbandoned()
            return .cancelled
        }
    }

    /// The step before a get parks, right after it found no item (no suspension between).
    @usableFromInline nonisolated static let getterOnHub: @Sendable @Hub ((QueueCore, Double?)) -> ParkingStep<Delivery> = {
        let (core, timeout) = $0
        return parkingStep(timeout: timeout, waiter: core.reusable(&core.spareGetter, purpose: "a queue's get()"))
    }

    @usableFromInline nonisolated static let parkGetterOnHub: @Sendable @Hub (GetParking) -> Void = { parking in
        parking.waiter.parkInPlace(parking.continuation, timeout: parking.timeout) { waiter in
            parking.core.getters.append(waiter, ())
        }
    }

    /// The item a parked get was handed, or how it ended without one.
    @usableFromInline nonisolated static let finishGetOnHub: @Sendable @Hub ((QueueCore, Waiter<Delivery>, Wake<Delivery>)) -> (Item?, ParkingOutcome) = {
        let (core, waiter, wake) = $0
        waiter.finishParkingInPlace()
        switch wake {
        case .value(.item(let item)): return (item, .done)
        case .value(.closed): return (nil, .closed)
        case .timedOut:
            core.getters.noteAbandoned()
            return (nil, .timedOut)
        case .cancelled:
            core.getters.noteAbandoned()
            return (nil, .cancelled)
        }
    }

    /// `park`'s checks before it suspends, for the greenlet running now.
    private static func parkingStep<Value>(timeout: Double?, waiter: @autoclosure () -> Waiter<Value>) -> ParkingStep<Value> {
        if Task.isCancelled { return .cancelled }
        if let timeout, timeout <= 0 { return .timedOut }
        let waiter = waiter()
        return waiter.prepareToParkInPlace() ? .park(waiter) : .waitAsTask
    }

    /// The spare waiter, ready to park again, if nothing else holds it; else a new one,
    /// which becomes the spare.
    private func reusable<Value>(_ spare: inout Waiter<Value>?, purpose: StaticString) -> Waiter<Value> {
        if spare != nil && isKnownUniquelyReferenced(&spare!) {
            let waiter = spare!
            // Held by nobody else, it is on no list and no greenlet waits on it; one that
            // never parked (its caller was not a greenlet) needs no rearming.
            if !waiter.isWaiting { waiter.rearm() }
            return waiter
        }
        let waiter = Waiter<Value>(purpose: purpose)
        spare = waiter
        return waiter
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
