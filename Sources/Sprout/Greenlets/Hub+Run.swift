import Synchronization

import Glibc
import Logging

/// Why teardown began.
private enum Ending: Sendable {
    case returned
    case signal(Int32)
}

extension Hub {
    /// Errors from running the hub itself.
    public enum RunError: Error, CustomStringConvertible, Sendable {
        /// `Hub.run` was called a second time; the hub shut down when the first call returned.
        case alreadyShutDown
        /// `Hub.run` was called from the hub's own thread (from a greenlet), which would deadlock.
        case calledFromHub

        public var description: String {
            switch self {
            case .alreadyShutDown: "Hub.run was called again after the hub shut down; a process runs one Hub.run"
            case .calledFromHub: "Hub.run was called from a greenlet; spawn the work instead"
            }
        }
    }

    /// Runs `body` as the program's main greenlet and blocks the calling thread until it
    /// is done; returns its result — the synchronous `main`'s way into Sprout.
    ///
    /// When `body` returns (or throws), the program ends the way a gevent program ends
    /// with its main greenlet: greenlets still running are killed (their cleanup runs),
    /// the shutdown hooks of servers and process pools run (``Hub/onShutdown(_:)``),
    /// every libuv handle is closed and the loop is closed. The hub cannot be used after.
    ///
    /// SIGINT and SIGTERM during `run` take the same path and then end the process with
    /// exit status 130 or 143 — unless the program watches that signal itself with
    /// ``Signals``, which then receives it instead.
    ///
    /// While the main thread is blocked here, `@MainActor` code cannot run: Sprout's own
    /// thread runs the hub, and the main actor's queue is not drained.
    ///
    /// The hub's reports (an error nobody read, a job that blocks the hub) go to `logger`,
    /// which becomes ``logger``; when `nil`, ``logger`` stays as it is.
    ///
    /// A main greenlet that waits with nothing left that could wake it (`Event().wait()`
    /// with no one to set it) is killed, and `run` throws ``LoopExit`` naming the wait,
    /// as gevent raises `LoopExit` rather than hang.
    ///
    /// - Throws: what `body` throws; ``LoopExit`` if it would wait forever; ``RunError`` if
    ///   the hub cannot run.
    public static func run<T: Sendable>(
        logger: Logger? = nil,
        _ body: @escaping @Hub @Sendable () async throws -> T
    ) throws -> T {
        if isCurrent { throw RunError.calledFromHub }
        if LoopExecutor.shared.isStopped { throw RunError.alreadyShutDown }
        if let logger { Hub.logger = logger }
        let outcome = ThreadMutex<(Result<T, any Error>, Ending)?>(nil)
        _ = startHelperTask {
            await ProgramLifecycle.runMain(body) { result in outcome.withLock { $0 = result } }
        }
        let closeResult = LoopExecutor.shared.waitUntilClosed()
        if closeResult != 0 {
            Hub.logger.error("uv_loop_close failed at shutdown: \(HubError(code: closeResult, operation: "close loop"))")
        }
        guard let (result, ending) = outcome.withLock({ $0 }) else {
            fatalError("Sprout: the hub closed without finishing the main greenlet")
        }
        if case .signal(let signal) = ending {
            exit(128 + signal)
        }
        return try result.get()
    }
}

/// The ``LoopExit`` of a main greenlet found waiting with nothing left to wake it.
@Hub
private final class StrandedMain {
    var exit: LoopExit?
}

/// The program's lifecycle around its main greenlet.
private enum ProgramLifecycle {
    /// Runs the main greenlet, waits for it or a signal, then tears everything down.
    @Hub
    static func runMain<T: Sendable>(
        _ body: @escaping @Hub @Sendable () async throws -> T,
        report: (sending (Result<T, any Error>, Ending)) -> Void
    ) async {
        let ended = Waiter<Ending>()
        var watchers: [SignalWatcher] = []
        for signal in [SIGINT, SIGTERM] {
            let watcher = try? SignalWatcher(signal: signal) { signal in
                if !SignalClaims.isClaimed(signal) { ended.wake(with: .signal(signal)) }
            }
            if let watcher {
                watchers.append(watcher)
            }
        }
        let main = spawn(name: "main") { try await body() }
        let stranded = StrandedMain()
        LoopExecutor.shared.whenNothingCanWake = {
            guard stranded.exit == nil, let waiter = main.parkedWaiter else { return }
            stranded.exit = LoopExit(waitingIn: waiter.waitDescription)
            main.cancel()
        }
        main.onDone { ended.wake(with: .returned) }
        let ending: Ending
        switch await park(ended) {
        case .value(let value): ending = value
        case .timedOut, .cancelled: ending = .returned
        }
        LoopExecutor.shared.whenNothingCanWake = nil
        if case .signal = ending { main.cancel() }

        let stuck = (try? await Hub.killAll()) ?? []
        if !stuck.isEmpty {
            let named = stuck.prefix(3).map { "\($0)" }.joined(separator: ", ")
            let more = stuck.count > 3 ? " and \(stuck.count - 3) more" : ""
            Hub.logger.warning("""
                \(stuck.count) greenlet(s) did not finish within 2 s of being killed at shutdown \
                (each is waiting on something that is not a Sprout wait): \(named)\(more)
                """)
        }
        for hook in Hub.takeShutdownHooks() { await hook() }
        for watcher in watchers { watcher.close() }

        var outcome = main.takeOutcome() ?? .failure(GreenletExit(greenlet: main.name))
        if case .failure = outcome, let exit = stranded.exit { outcome = .failure(exit) }
        report((outcome, ending))
        BlockingMonitor.shared.stop()
        // The last thing on the loop: no job may be queued after this one.
        LoopExecutor.shared.closeLoop()
    }
}
