/// The given greenlets (or process jobs) one by one, as they finish — gevent's `iwait`.
///
/// The sequence ends when all (or `count`) have finished, or when `timeout` seconds have
/// passed since iteration began.
///
/// - Parameters:
///   - items: what to wait for.
///   - timeout: seconds after which the sequence ends early (`nil`: no limit).
///   - count: end after this many.
public func iwait(_ items: [any Joinable], timeout: Double? = nil, count: Int? = nil) -> CompletionSequence {
    CompletionSequence(items: items, timeout: timeout, count: min(count ?? items.count, items.count))
}

/// The sequence ``iwait(_:timeout:count:)`` returns: items in order of completion.
///
/// Iterating throws `CancellationError` if the iterating greenlet is killed.
public struct CompletionSequence: AsyncSequence, Sendable {
    public typealias Element = any Joinable
    public typealias Failure = any Error

    let items: [any Joinable]
    let timeout: Double?
    let count: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(collector: CompletionCollector(items, timeout: timeout, count: count))
    }

    /// Yields finished items in order of completion.
    public struct Iterator: AsyncIteratorProtocol {
        let collector: CompletionCollector

        /// The next item to finish, or `nil` when all are done or time is up.
        ///
        /// - Throws: `CancellationError` if the iterating greenlet is killed.
        public mutating func next() async throws -> (any Joinable)? {
            try await collector.next()
        }
    }
}

/// Collects completions on the hub as they happen, so `iwait` yields in completion order.
@Hub
final class CompletionCollector {
    private let items: [any Joinable]
    private let timeout: Double?
    private let count: Int
    private var started = false
    private var deadline: UInt64?
    private var done: [any Joinable] = []
    private var doneHead = 0
    private var waiter: Waiter<Void>?

    nonisolated init(_ items: [any Joinable], timeout: Double?, count: Int) {
        self.items = items
        self.timeout = timeout
        self.count = count
    }

    private func start() {
        started = true
        deadline = timeout.map { monotonicNanoseconds() &+ nanoseconds($0) }
        for item in items {
            if item.isReady {
                done.append(item)
            } else {
                item.onDone { [self] in
                    done.append(item)
                    waiter?.wake()
                }
            }
        }
    }

    func next() async throws -> (any Joinable)? {
        if !started { start() }
        guard doneHead < count else { return nil }
        while doneHead == done.count {
            var remaining: Double?
            if let deadline {
                let now = monotonicNanoseconds()
                guard now < deadline else { return nil }
                remaining = Double(deadline - now) / 1e9
            }
            // Entering `park` may hop executors (a caller that is not a greenlet): look again.
            let wake = await park(Waiter<Void>(), timeout: remaining) { parked in
                if doneHead < done.count { parked.wake() } else { waiter = parked }
            }
            waiter = nil
            switch wake {
            case .value: continue
            case .timedOut: return nil
            case .cancelled: throw CancellationError()
            }
        }
        let item = done[doneHead]
        doneHead += 1
        return item
    }
}
