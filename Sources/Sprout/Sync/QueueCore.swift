import Logging

/// The untyped engine under every ``GreenletQueue`` and ``Channel``: it keeps the counts,
/// the wait lists and the tickets of items in transit, and is compiled once, with no generic
/// type to look up at run time. (Unspecialized generic code spent over half its time in
/// metadata lookups.) A greenlet's put or get does not pass its item through here: the
/// typed wrapper, inlinable and so specialized in the caller's module, asks where the item
/// goes or comes from (``admitsBufferedPut()``, ``liveGetter()``, ``takeRoute()``) and moves
/// it in the typed stores itself; a parked putter's item and an item handed to a parked
/// getter wait in ``TransitItems`` under a ticket, and only the ticket comes here.
/// The paths of tasks that are not greenlets move items as `any Sendable` through
/// ``QueueStorage``.
@usableFromInline
@Hub
final class QueueCore: Sendable {
    @usableFromInline typealias Item = any Sendable

    /// What a parked getter is woken with.
    @usableFromInline
    enum Delivery: Sendable {
        /// The ticket of its item, kept in transit.
        case item(ticket: Int)
        case closed
    }

    // Hub-isolated, and no access to these overlaps another (a wake only schedules the
    // woken greenlet), so the run-time exclusivity checks, a sixth of a put/get, are off.
    private let buffer: any QueueStorage
    /// How many items the buffer holds, counted here: asking the typed store would run its
    /// generic code unspecialized, with metadata lookups, on every put and get.
    @exclusivity(unchecked) private var buffered = 0
    @exclusivity(unchecked) private var getters = WaitList<Delivery, Void>()
    /// Parked putters with the tickets of their items in transit; a `true` wake means the
    /// item was taken.
    @exclusivity(unchecked) private var putters = WaitList<Bool, Int>()
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
                putters.append(waiter, buffer.deposit(item))
            }
        }
        switch wake {
        case .value(true): return
        case .value(false): throw QueueError.closed
        case .timedOut:
            putters.noteAbandoned(dropping: { buffer.drop($0) })
            throw QueueError.full
        case .cancelled:
            putters.noteAbandoned(dropping: { buffer.drop($0) })
            throw CancellationError()
        }
    }

    private func offer(_ item: Item) -> Bool {
        if let getter = liveGetter() {
            hand(buffer.deposit(item), to: getter)
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
            putters.append(nil, buffer.deposit(item))
        }
    }

    /// The getter parked longest that still waits, taken off its list; the caller hands it
    /// an item with ``hand(_:to:)`` at once. `nil` if none waits.
    @usableFromInline func liveGetter() -> Waiter<Delivery>? {
        getters.popLiveWaiter()
    }

    /// Wakes `getter`, found by ``liveGetter()``, with the item in transit under `ticket`.
    @usableFromInline func hand(_ ticket: Int, to getter: Waiter<Delivery>) {
        unfinished += 1
        getter.wake(with: .item(ticket: ticket))
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
                waiter.wake(with: .item(ticket: buffer.deposit(item)))
            } else if isClosed {
                waiter.wake(with: .closed)
            } else {
                getters.append(waiter, ())
            }
        }
        switch wake {
        case .value(.item(let ticket)): return buffer.takeInTransit(ticket)
        case .value(.closed): throw QueueError.closed
        case .timedOut:
            getters.noteAbandoned()
            throw QueueError.empty
        case .cancelled:
            getters.noteAbandoned()
            throw CancellationError()
        }
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
        switch takeRoute() {
        case .buffered(let moving):
            let item = buffer.removeNext()
            if let moving { buffer.moveToBuffer(moving) }
            return item
        case .fromPutter(let ticket):
            return buffer.takeInTransit(ticket)
        case .nothing:
            return nil
        }
    }

    /// Where the next item comes from, once ``takesBufferedGet()`` said no.
    @usableFromInline
    enum TakeRoute {
        /// The buffer's next item; then the item in transit under `moving`, if any, moves
        /// into the buffer behind the others (its putter, parked on a full queue, is woken).
        case buffered(moving: Int?)
        /// The item in transit under this ticket: a parked putter's (its putter is woken).
        case fromPutter(Int)
        /// No item is there.
        case nothing
    }

    /// Takes the next item's place in the counts, wakes the putter whose item it takes or
    /// moves, and says where the caller finds the item.
    @usableFromInline func takeRoute() -> TakeRoute {
        if buffered > 0 {
            buffered -= 1
            guard let moving = putters.popLive(waking: true, dropping: { buffer.drop($0) }) else {
                return .buffered(moving: nil)
            }
            buffered += 1
            unfinished += 1
            return .buffered(moving: moving)
        }
        // Only a full zero-size queue (a channel) has putters while its buffer is empty.
        guard let ticket = putters.popLive(waking: true, dropping: { buffer.drop($0) }) else { return .nothing }
        unfinished += 1
        return .fromPutter(ticket)
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
        /// The ticket of the putter's item, already in transit.
        @usableFromInline let ticket: Int
        @usableFromInline let timeout: Double?

        @inlinable
        init(core: QueueCore, waiter: Waiter<Bool>, continuation: UnsafeContinuation<Wake<Bool>, Never>, ticket: Int, timeout: Double?) {
            self.core = core
            self.waiter = waiter
            self.continuation = continuation
            self.ticket = ticket
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

    /// Parks the putter; `false` if it was not put on the list (woken before it parked),
    /// and the caller then takes its item back out of transit.
    @usableFromInline nonisolated static let parkPutterOnHub: @Sendable @Hub (PutParking) -> Bool = { parking in
        var enlisted = false
        parking.waiter.parkInPlace(parking.continuation, timeout: parking.timeout) { waiter in
            parking.core.putters.append(waiter, parking.ticket)
            enlisted = true
        }
        return enlisted
    }

    @usableFromInline nonisolated static let finishPutOnHub: @Sendable @Hub ((QueueCore, Waiter<Bool>, Wake<Bool>)) -> ParkingOutcome = {
        let (core, waiter, wake) = $0
        waiter.finishParkingInPlace()
        switch wake {
        case .value(true): return .done
        case .value(false): return .closed
        case .timedOut:
            core.putters.noteAbandoned(dropping: { core.buffer.drop($0) })
            return .timedOut
        case .cancelled:
            core.putters.noteAbandoned(dropping: { core.buffer.drop($0) })
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

    /// The ticket of the item a parked get was handed, or how it ended without one.
    @usableFromInline nonisolated static let finishGetOnHub: @Sendable @Hub ((QueueCore, Waiter<Delivery>, Wake<Delivery>)) -> (Int, ParkingOutcome) = {
        let (core, waiter, wake) = $0
        waiter.finishParkingInPlace()
        switch wake {
        case .value(.item(let ticket)): return (ticket, .done)
        case .value(.closed): return (0, .closed)
        case .timedOut:
            core.getters.noteAbandoned()
            return (0, .timedOut)
        case .cancelled:
            core.getters.noteAbandoned()
            return (0, .cancelled)
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
        let dropped = putters.wakeAll(with: false, dropping: { buffer.drop($0) })
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
