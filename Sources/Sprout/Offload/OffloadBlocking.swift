/// Runs `body` on Sprout's pool of threads for blocking calls and suspends only the
/// calling greenlet until it returns — gevent's `threadpool.apply`, Tokio's
/// `spawn_blocking`. Use it for calls that would otherwise block the hub: a blocking C
/// library, `getpwnam`, heavy hashing, a synchronous database driver.
///
/// `body` runs on another thread, so it must be `@Sendable` and must not touch
/// hub-isolated state. The pool is bounded (`SPROUT_BLOCKING_THREADS`, default 16);
/// calls beyond that wait their turn.
///
/// If the greenlet is killed while `body` runs, it stops waiting at once with
/// `CancellationError`; `body` itself cannot be interrupted and runs to the end, its
/// result dropped. A call still queued is skipped.
///
/// - Returns: what `body` returns.
/// - Throws: what `body` throws; `CancellationError` if the greenlet is killed.
@Hub
public func offloadBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let waiter = Waiter<Result<T, any Error>>(purpose: "offloadBlocking { }")
    let wake = await park(waiter) { waiter in
        let ticket = OffloadTicket()
        // Until its answer is back on the hub, the call is something that can wake a greenlet.
        LoopExecutor.shared.holdOpen()
        BlockingPool.shared.submit(BlockingPool.Job {
            let result = ticket.isAbandoned ? nil : Result { try body() }
            Hub.later {
                LoopExecutor.shared.releaseHold()
                if let result { _ = waiter.wake(with: result) }
            }
        })
        waiter.onAbandon = { ticket.abandon() }
    }
    switch wake {
    case .value(let result): return try result.get()
    case .timedOut, .cancelled: throw CancellationError()
    }
}
