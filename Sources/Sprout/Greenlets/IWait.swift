import DequeModule

/// The given greenlets (or process jobs) of one type one by one, as they finish — gevent's
/// `iwait`. Each comes back as its own type, so its value is read without a cast:
///
/// ```swift
/// for try await done in iwait(greenlets) { print(try await done.get()) }
/// ```
///
/// The sequence ends when all (or `count`) have finished, or when `timeout` seconds have
/// passed since iteration began (see ``asCompleted(_:timeout:)-(_,Double?)`` for a timeout that throws).
///
/// - Parameters:
///   - items: what to wait for.
///   - timeout: seconds after which the sequence ends early (`nil`: no limit).
///   - count: end after this many.
public func iwait<Item: Joinable>(_ items: [Item], timeout: Double? = nil, count: Int? = nil) -> CompletionSequence<Item> {
    CompletionSequence(items: items, handle: { $0 }, timeout: timeout, count: min(count ?? items.count, items.count), throwsOnTimeout: false)
}

/// ``iwait(_:timeout:count:)-(_,_,_)`` over a mix of greenlets and process jobs; they come
/// back as `any Joinable`.
public func iwait(_ items: [any Joinable], timeout: Double? = nil, count: Int? = nil) -> CompletionSequence<any Joinable> {
    CompletionSequence(items: items, handle: { $0 }, timeout: timeout, count: min(count ?? items.count, items.count), throwsOnTimeout: false)
}

/// The handles of one type one by one as they finish — `concurrent.futures.as_completed`.
/// Unlike ``iwait(_:timeout:count:)-([Joinable],Double?,Int?)``, running out of time is an error: iterating
/// throws ``Timeout`` if `timeout` seconds pass (from the start of iteration) before all
/// have finished.
///
/// - Parameters:
///   - items: what to wait for.
///   - timeout: seconds allowed for all of them (`nil`: no limit).
public func asCompleted<Item: Joinable>(_ items: [Item], timeout: Double? = nil) -> CompletionSequence<Item> {
    CompletionSequence(items: items, handle: { $0 }, timeout: timeout, count: items.count, throwsOnTimeout: true)
}

/// The sequence ``iwait(_:timeout:count:)-([Joinable],Double?,Int?)`` and ``asCompleted(_:timeout:)-(_,Double?)`` return:
/// items in order of completion.
///
/// Iterating throws `CancellationError` if the iterating greenlet is killed, and — from
/// ``asCompleted(_:timeout:)-(_,Double?)`` only — ``Timeout`` when time runs out.
public struct CompletionSequence<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = any Error

    let items: [Element]
    let handle: @Sendable (Element) -> any Joinable
    let timeout: Double?
    let count: Int
    let throwsOnTimeout: Bool

    /// Starts watching the items; they are collected as they finish from the first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(collector: CompletionCollector(items, handle: handle, timeout: timeout, count: count,
                                                throwsOnTimeout: throwsOnTimeout))
    }

    /// Yields finished items in order of completion.
    public struct Iterator: AsyncIteratorProtocol {
        let collector: CompletionCollector<Element>

        /// The next item to finish, or `nil` when all are done (or, from `iwait`, time is up).
        ///
        /// - Throws: `CancellationError` if the iterating greenlet is killed; ``Timeout``
        ///   from ``asCompleted(_:timeout:)-(_,Double?)`` when time runs out first.
        public mutating func next() async throws -> Element? {
            try await collector.next()
        }
    }
}

/// Collects completions on the hub as they happen, so `iwait` yields in completion order.
@Hub
final class CompletionCollector<Element: Sendable> {
    private let items: [Element]
    private let handle: @Sendable (Element) -> any Joinable
    private let timeout: Double?
    private let count: Int
    private let throwsOnTimeout: Bool
    private var started = false
    private var deadline: Deadline?
    private var done = Deque<Element>()
    /// How many of `done` were handed out.
    private var returned = 0
    private var waiter: Waiter<Void>?

    nonisolated init(_ items: [Element], handle: @escaping @Sendable (Element) -> any Joinable, timeout: Double?,
                     count: Int, throwsOnTimeout: Bool) {
        self.items = items
        self.handle = handle
        self.timeout = timeout
        self.count = count
        self.throwsOnTimeout = throwsOnTimeout
    }

    private func start() {
        started = true
        deadline = Deadline(timeout: timeout)
        for item in items {
            let joinable = handle(item)
            if joinable.isReady {
                done.append(item)
            } else {
                joinable.onDone { [self] in
                    done.append(item)
                    waiter?.wake()
                }
            }
        }
    }

    private func outOfTime() throws -> Element? {
        if throwsOnTimeout { throw Timeout(seconds: timeout ?? 0) }
        return nil
    }

    func next() async throws -> Element? {
        if !started { start() }
        guard returned < count else { return nil }
        while done.isEmpty {
            if deadline?.hasPassed == true { return try outOfTime() }
            // Entering `park` may hop executors (a caller that is not a greenlet): look again.
            let wake = await park(Waiter<Void>(), timeout: deadline?.secondsLeft) { parked in
                if !done.isEmpty { parked.wake() } else { waiter = parked }
            }
            waiter = nil
            switch wake {
            case .value: continue
            case .timedOut: return try outOfTime()
            case .cancelled: throw CancellationError()
            }
        }
        returned += 1
        return done.removeFirst()
    }
}
