import Synchronization

extension Hub {
    /// Registers `hook` to run on the hub during shutdown (the end of ``run(logger:_:)`` or
    /// SIGINT/SIGTERM), after greenlets are killed and before handles close. Hooks run
    /// in reverse order of registration; servers and process pools close through here
    /// rather than installing signal handlers of their own.
    ///
    /// - Returns: a token for ``removeShutdownHook(_:)``.
    @discardableResult
    public static func onShutdown(_ hook: @escaping @Hub @Sendable () async -> Void) -> ShutdownHook {
        shutdownHooks.withLock { hooks in
            let token = ShutdownHook(id: hooks.next)
            hooks.next += 1
            hooks.list.append((token, hook))
            return token
        }
    }

    /// Unregisters a hook added with ``onShutdown(_:)``, e.g. when a server stops early.
    public static func removeShutdownHook(_ token: ShutdownHook) {
        shutdownHooks.withLock { hooks in hooks.list.removeAll { $0.token == token } }
    }

    /// Takes every registered hook, in the order they must run (newest first), leaving
    /// none: the program's teardown runs them once.
    package static func takeShutdownHooks() -> [@Hub @Sendable () async -> Void] {
        shutdownHooks.withLock { hooks in
            let list = hooks.list
            hooks.list = []
            return list.reversed().map(\.hook)
        }
    }
}

/// Identifies a registered shutdown hook.
public struct ShutdownHook: Hashable, Sendable {
    let id: UInt64
}

private struct HookList {
    var list: [(token: ShutdownHook, hook: @Hub @Sendable () async -> Void)] = []
    var next: UInt64 = 0
}

private let shutdownHooks = ThreadMutex(HookList())
