/// One `map` / `imap` / `imapUnordered` running through a ``Pool``.
///
/// Instead of a greenlet per item, it runs *workers*: pool greenlets that each take the
/// next item, call the function, deliver the result and take another. A new worker is
/// started (if a slot is free) whenever every worker is busy inside the function, so
/// blocking functions fan out to the pool's size while trivial ones cost no spawn per
/// item. The input is read only by a worker about to call the function on it, and with
/// a `window` only while fewer than `window` results wait to be consumed: lazy and
/// bounded, so an endless input works.
@Hub
final class PoolMapRun<Input: Sequence, Output: Sendable> where Input.Element: Sendable {
    typealias Body = @Hub @Sendable (Input.Element) async throws -> Output

    /// Calls between worker yields, so a trivial function cannot hold the hub for long.
    private static var yieldEvery: Int { 64 }

    private let pool: Pool
    private let body: Body
    private let ordered: Bool
    private let progress: (@Hub (MapProgress) -> Void)?
    private let total: Int?
    private let startTime = monotonicNanoseconds()
    private var done = 0
    /// Permits for items read but not yet consumed; `nil` for `map`, which keeps all.
    private let window: Semaphore?
    private var input: Input.Iterator
    private var started = false
    private var exhausted = false
    private var stopped = false
    private var nextIndex = 0
    private var inFlight = 0
    private var alive = 0
    private var busy = 0
    private var workers: [Greenlet<Void>] = []
    private var readyInOrder: [Int: Output] = [:]
    private var nextToYield = 0
    private var readyAnyOrder = ItemStore<Output>(order: .fifo)
    private var failure: (any Error)?
    private var consumer: Waiter<Void>?

    init(pool: Pool, input: Input, ordered: Bool, window: Int?,
         progress: (@Hub (MapProgress) -> Void)?, body: @escaping Body) {
        self.pool = pool
        self.body = body
        self.ordered = ordered
        self.progress = progress
        total = (input as? any Collection)?.count
        self.window = window.map { Semaphore(value: max(1, $0)) }
        self.input = input.makeIterator()
    }

    /// The next result (in input order when `ordered`), or `nil` when all are delivered.
    ///
    /// - Throws: the first error the function threw (the run then stops);
    ///   `CancellationError` if the consuming greenlet is killed (the run stops too).
    func next() async throws -> Output? {
        if !started {
            started = true
            do {
                let worker = try await pool.spawn { [self] in await work() }
                track(worker)
            } catch {
                stop()
                throw error
            }
        }
        while true {
            if let failure { throw failure }
            if ordered, let output = readyInOrder.removeValue(forKey: nextToYield) {
                nextToYield += 1
                window?.release()
                return output
            }
            if !ordered, readyAnyOrder.count > 0 {
                window?.release()
                return readyAnyOrder.removeNext()
            }
            if exhausted, inFlight == 0 { return nil }
            // Set before `park`, with no suspension since the checks above: entering `park`
            // may hop executors (a consumer that is not a greenlet), and a result delivered
            // meanwhile wakes the waiter early, which `park` then returns at once.
            let waiter = Waiter<Void>()
            consumer = waiter
            let wake = await park(waiter)
            consumer = nil
            if case .cancelled = wake {
                stop()
                throw CancellationError()
            }
        }
    }

    /// Stops reading input and kills the workers; results already delivered stay.
    func stop() {
        guard !stopped else { return }
        stopped = true
        for worker in workers { worker.cancel() }
        workers = []
    }

    private func track(_ worker: Greenlet<Void>) {
        alive += 1
        workers.append(worker)
        worker.onDone { [self] in
            alive -= 1
            // The last worker gone with input left and no error: it was killed from
            // outside (perhaps before it ever ran), so the run cannot go on.
            if alive == 0, !exhausted, !stopped, failure == nil {
                failure = worker.error ?? CancellationError()
                stop()
            }
            consumer?.wake()
        }
    }

    private func work() async {
        var calls = 0
        do {
            while !stopped {
                if let window { try await window.acquire() }
                guard !stopped, let item = input.next() else {
                    exhausted = true
                    window?.release()
                    return
                }
                let index = nextIndex
                nextIndex += 1
                inFlight += 1
                busy += 1
                if busy == alive, alive < pool.size, let helper = pool.trySpawn({ [self] in await work() }) {
                    track(helper)
                }
                let output: Output
                do {
                    output = try await body(item)
                } catch {
                    busy -= 1
                    // The failure ends the map; a progress line still shows it.
                    done += 1
                    progress?(MapProgress(done: done, total: total, failed: 1, since: startTime))
                    throw error
                }
                busy -= 1
                deliver(output, at: index)
                calls += 1
                if calls % Self.yieldEvery == 0 { try await sleep(0) }
            }
        } catch {
            if !stopped, failure == nil { failure = error }
            stop()
        }
    }

    private func deliver(_ output: Output, at index: Int) {
        inFlight -= 1
        if ordered { readyInOrder[index] = output } else { readyAnyOrder.insert(output) }
        done += 1
        progress?(MapProgress(done: done, total: total, failed: 0, since: startTime))
        consumer?.wake()
    }
}
