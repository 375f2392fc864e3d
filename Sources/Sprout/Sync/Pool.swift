/// A group of greenlets that never runs more than `size` at once — gevent's `Pool`:
/// ``spawn(name:file:line:_:)`` parks until a slot is free; ``map(_:progress:_:)``, ``imap(_:maxPending:progress:_:)``
/// and ``imapUnordered(_:maxPending:progress:_:)`` run a function over a sequence through the pool,
/// reading the sequence only as fast as slots free up, so an endless sequence works.
///
/// ```swift
/// let pool = Pool(size: 100)
/// let pages = try await pool.map(urls) { url in try await fetch(url) }
/// for try await line in pool.imapUnordered(1...) { n in try await check(n) } { ... }
/// ```
@Hub
public final class Pool: Sendable {
    /// The most greenlets the pool runs at once.
    public nonisolated let size: Int
    private let slots: Semaphore
    private let group = Group()

    /// A pool running at most `size` greenlets at once.
    public nonisolated init(size: Int) {
        precondition(size > 0, "a pool needs at least one slot")
        self.size = size
        slots = Semaphore(value: size)
    }

    /// How many of the pool's greenlets are running.
    public var count: Int { group.count }

    /// How many slots are free (gevent's `free_count`).
    public var freeCount: Int { slots.value }

    /// True when every slot is taken (a spawn would park).
    public var isFull: Bool { slots.value == 0 }

    /// Spawns `body` in the pool once a slot is free, parking until then.
    ///
    /// - Throws: `CancellationError` if the spawning greenlet is killed while waiting
    ///   (nothing was spawned).
    @discardableResult
    public func spawn<Value: Sendable>(
        name: String? = nil,
        file: StaticString = #fileID,
        line: UInt = #line,
        _ body: @escaping @Hub @Sendable () async throws -> Value
    ) async throws -> Greenlet<Value> {
        try await slots.acquire()
        return start(name: name, file: file, line: line, body)
    }

    /// Spawns `body` if a slot is free now; `nil` otherwise.
    @discardableResult
    public func trySpawn<Value: Sendable>(
        name: String? = nil,
        file: StaticString = #fileID,
        line: UInt = #line,
        _ body: @escaping @Hub @Sendable () async throws -> Value
    ) -> Greenlet<Value>? {
        guard slots.tryAcquire() else { return nil }
        return start(name: name, file: file, line: line, body)
    }

    private func start<Value: Sendable>(
        name: String?,
        file: StaticString,
        line: UInt,
        _ body: @escaping @Hub @Sendable () async throws -> Value
    ) -> Greenlet<Value> {
        let greenlet = group.spawn(name: name, file: file, line: line, body)
        greenlet.onDone { [slots] in slots.release() }
        return greenlet
    }

    /// Waits until a slot is free or `timeout` seconds pass (gevent's `wait_available`);
    /// returns whether one is.
    ///
    /// - Throws: `CancellationError` if the waiting greenlet is killed.
    @discardableResult
    public func waitAvailable(timeout: Double? = nil) async throws -> Bool {
        guard try await slots.acquire(timeout: timeout) else { return false }
        slots.release()
        return true
    }

    /// Waits until the pool's greenlets have all finished; see ``Group/join(timeout:raiseError:)-(Double?,_)``.
    ///
    /// - Returns: `false` if `timeout` passed first.
    /// - Throws: with `raiseError`, the first error a greenlet ends with;
    ///   `CancellationError` if the waiting greenlet is killed.
    @discardableResult
    public func join(timeout: Double? = nil, raiseError: Bool = false) async throws -> Bool {
        try await group.join(timeout: timeout, raiseError: raiseError)
    }

    /// Kills the pool's greenlets; see ``Group/kill(block:timeout:)-(_,Double?)``.
    ///
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @discardableResult
    public func kill(block: Bool = true, timeout: Double? = nil) async throws -> Bool {
        try await group.kill(block: block, timeout: timeout)
    }
}
