/// A counter of permits greenlets wait for — gevent's `Semaphore`: ``acquire(timeout:)-(Double?)``
/// takes one, parking while none is free; ``release()`` gives one back.
///
/// A released permit goes straight to the greenlet that has waited longest (first come,
/// first served), never to one that timed out or was killed, so no permit is lost.
///
/// ```swift
/// let slots = Semaphore(value: 3)
/// try await slots.withPermit { try await fetch(url) }   // at most 3 at a time
/// ```
@Hub
public final class Semaphore: Sendable {
    private var waiters = WaitList<Void, Void>()

    /// Permits free now (never negative).
    public private(set) var value: Int

    /// A semaphore with `value` free permits.
    public nonisolated init(value: Int = 1) {
        precondition(value >= 0, "a semaphore cannot start with a negative value")
        self.value = value
    }

    /// True when no permit is free (an acquire would park).
    public var isLocked: Bool { value == 0 }

    /// Takes a permit, parking until one is free or `timeout` seconds pass.
    ///
    /// - Returns: `true` with a permit taken, `false` if the timeout passed (no permit taken).
    /// - Throws: `CancellationError` if the greenlet is killed while waiting (no permit taken).
    @discardableResult
    public func acquire(timeout: Double? = nil) async throws -> Bool {
        // Released permits go straight to waiters, so a free permit means nobody waits.
        try await parkUnlessReady(
            timeout: timeout,
            ready: { tryAcquire() },
            enlist: { waiters.append($0, ()) },
            abandoned: { waiters.noteAbandoned() }
        )
    }

    /// Takes a permit if one is free now; returns whether it did.
    public func tryAcquire() -> Bool {
        guard value > 0 else { return false }
        value -= 1
        return true
    }

    /// Gives a permit back: to the longest-waiting greenlet if any, else to the pool.
    public func release() {
        if waiters.popLive(waking: ()) == nil { value += 1 }
    }

    /// Gives a permit back from any thread (a thread-pool job finishing): it is released on
    /// the hub's next turn. From hub code call ``release()``; the rest is hub-isolated.
    public nonisolated func releaseFromAnyThread() {
        Hub.later { [self] in release() }
    }

    /// Runs `body` holding a permit, released however `body` ends.
    ///
    /// - Throws: what `body` throws; `CancellationError` if killed while waiting.
    public func withPermit<Result>(_ body: @Hub () async throws -> Result) async throws -> Result {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
