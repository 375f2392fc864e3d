import CLibuv

/// The hub: the one event loop of the process, and the global actor whose code runs on it.
///
/// Code marked `@Hub` runs on the hub's thread; greenlet bodies given to ``spawn(name:file:line:_:)``
/// are `@Hub`, so greenlets share hub-isolated state the way gevent code shares module
/// state — and the compiler, not a convention, keeps other threads out of it.
///
/// The hub starts on first use, on a thread of its own, and lives as long as the process
/// (or until ``Hub/run(logger:_:)`` returns). From async code, spawn and await greenlets directly.
/// From a synchronous `main`, call ``Hub/run(logger:_:)``.
@globalActor
public final actor Hub {
    /// The hub's actor instance.
    public static let shared = Hub()

    private init() {}

    /// The hub's executor: the libuv loop thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        LoopExecutor.shared.asUnownedSerialExecutor()
    }

    /// True when the caller runs on the hub's thread.
    public static var isCurrent: Bool { runningOnHubThread() }

    /// Runs `body` synchronously when the caller is known to be on the hub thread
    /// (a libuv callback, a job the hub runs); stops the program if it is not.
    ///
    /// Each call boxes and verifies `body` (`withoutActuallyEscaping`): a callback that
    /// runs for every read or event calls a constant through ``onHubThread(_:)`` instead.
    package static func assumeIsolated<T>(_ body: @Hub () throws -> T) rethrows -> T {
        LoopExecutor.shared.checkIsolated()
        return try withoutActuallyEscaping(body) { body in
            // A synchronous @Hub function has the same representation as a plain one;
            // the check above is what makes calling it without a hop sound.
            try unsafeBitCast(body, to: (() throws -> T).self)()
        }
    }

    /// A synchronous hub-isolated function as a plain one, for a caller in any isolation
    /// that checked ``isCurrent`` — ``assumeIsolated(_:)`` without its cost: that takes a
    /// non-escaping closure, which `withoutActuallyEscaping` boxes and verifies on every
    /// call. Sound because a synchronous `@Hub` function has the same representation as a
    /// plain one and the hub thread is the hub's only executor.
    ///
    /// This is Sprout's one idiom for C callbacks that run per event (libuv's reads,
    /// writes, polls and accepts, a UDP datagram, curl's socket, timer and data callbacks),
    /// all of which C calls on the hub thread:
    /// - the C function pointer is written in a `nonisolated` (static) function, since a
    ///   closure written in `@Hub` code checks its isolation through the runtime on each call;
    /// - it recovers its owner from the handle's data pointer (`Unmanaged`);
    /// - it enters the hub by calling a constant, `private nonisolated static let
    ///   somethingOnHub: @Sendable @Hub ((Owner, Arguments)) -> Result`, through
    ///   `Hub.onHubThread(Self.somethingOnHub)((owner, arguments))`, which allocates nothing.
    /// One-shot completions (a connect, a DNS answer, a child's exit) may use
    /// ``assumeIsolated(_:)``: its cost is paid once per operation.
    @inlinable @inline(__always)
    package static func onHubThread<Argument, Result, Failure: Error>(
        _ body: @escaping @Sendable @Hub (Argument) throws(Failure) -> Result
    ) -> (Argument) throws(Failure) -> Result {
        unsafeBitCast(body, to: (@Sendable (Argument) throws(Failure) -> Result).self)
    }

    /// ``onHubThread(_:)`` for a function that cannot throw.
    @inlinable @inline(__always)
    package static func onHubThread<Argument, Result>(
        _ body: @escaping @Sendable @Hub (Argument) -> Result
    ) -> (Argument) -> Result {
        unsafeBitCast(body, to: (@Sendable (Argument) -> Result).self)
    }

    /// Runs `body` on the hub on a later turn of the loop, from any thread.
    package static func later(_ body: @escaping @Sendable @Hub () -> Void) {
        LoopExecutor.shared.execute { Hub.assumeIsolated(body) }
    }

    /// The libuv loop, for the few files under `Hub/` and `IO/` that wrap libuv handles.
    @Hub package static var loop: UnsafeMutablePointer<uv_loop_t> { LoopExecutor.shared.loop }

    /// The loop's clock in milliseconds, as libuv caches it once per turn of the loop: a
    /// "now" that costs no system call, for deadlines that may be a turn early or late
    /// (an HTTP server's connection timeouts).
    @Hub package static var loopMilliseconds: UInt64 { uv_now(LoopExecutor.shared.loop) }
}
