import Synchronization

/// The error a killed greenlet ends with: gevent's `GreenletExit`.
///
/// Killing is deliberate, so a greenlet that ends this way is never reported as an
/// unobserved failure, and ``joinAll(_:timeout:raiseError:count:)-([Joinable],Double?,_,_)`` does not raise it.
public struct GreenletExit: Error, CustomStringConvertible, Sendable {
    /// The killed greenlet's name.
    public let greenlet: String
    public var description: String { "greenlet '\(greenlet)' was killed" }
}

/// What a kill from any thread needs of a running greenlet. Not nested in `Greenlet`: a
/// type nested in a generic class is generic too, and looking up its metadata on every
/// park showed up as a tenth of a TCP echo round trip.
private struct GreenletControl {
    var task: Task<Void, Never>?
    var taskKey: UInt = 0
    var parked: (any ParkedWaiter)?
    /// Set by a kill; a greenlet killed before its task exists gets a cancelled one.
    var killed = false
}

/// A lightweight task running on the hub, gevent's `Greenlet`: made by ``spawn(name:file:line:_:)``,
/// it switches to other greenlets whenever it waits on a Sprout operation.
///
/// Its outcome is read with ``Completion/get(timeout:)``, ``Completion/value``,
/// ``Completion/error``; ``Completion/join(timeout:)`` waits without throwing the outcome.
/// An error the body throws surfaces exactly once: to whoever reads it, or — if nobody
/// ever does — in one report on standard error when the last reference to the greenlet
/// goes away.
public final class Greenlet<Value: Sendable>: Completion<Value>, RunningGreenlet, @unchecked Sendable {
    /// The greenlet's id, name and spawn location.
    public let context: GreenletContext
    private let control = ThreadMutex(GreenletControl())
    /// The body, from ``start(_:)`` until ``run()`` takes it. Kept here so that the task's
    /// closure captures the greenlet alone, which then serves as the closure's context:
    /// capturing the body too cost an allocation per spawn.
    private var bodyToRun: (@Hub @Sendable () async throws -> Value)?

    /// A greenlet not started yet; ``start(_:)`` starts it.
    @usableFromInline
    init(name: String?, file: StaticString, line: UInt) {
        context = GreenletContext(name: name, file: file, line: line)
    }

    override var reportName: String { "greenlet \(context.description)" }

    override func isDeliberate(_ error: any Error) -> Bool { error is GreenletExit }

    /// The greenlet's name.
    public var name: String { context.name }

    /// Kills the greenlet without waiting: its current (or next) Sprout wait throws
    /// `CancellationError`, its cleanup (`defer`, `catch`) runs, and it ends with
    /// ``GreenletExit`` unless it catches that and returns a value. Waiters wake.
    public override func cancel() {
        let task = control.withLock { control in
            control.killed = true
            return control.task
        }
        task?.cancel()
        // Read after the task is marked cancelled: a park that missed the mark has
        // recorded its waiter by now (see `park`).
        guard let parked = control.withLock({ $0.parked }) else { return }
        if Hub.isCurrent {
            Hub.assumeIsolated { parked.cancel() }
        } else {
            Hub.later { parked.cancel() }
        }
    }

    func setParked(_ waiter: (any ParkedWaiter)?) {
        control.withLock { $0.parked = waiter }
    }

    /// The waiter the greenlet is parked on now, if it is parked in a Sprout wait.
    var parkedWaiter: (any ParkedWaiter)? {
        control.withLock { $0.parked }
    }

    /// Kills the greenlet (see ``cancel()``) and, when `block` is true, waits up to
    /// `timeout` seconds (forever when `nil`) for it to finish — gevent's `kill`.
    ///
    /// - Throws: `CancellationError` if the killing greenlet is itself killed while waiting.
    @Hub
    public func kill(block: Bool = true, timeout: Double? = nil) async throws {
        cancel()
        if block { try await join(timeout: timeout) }
    }

    // MARK: Running

    /// Queues the greenlet's start on the hub, which makes its task when it comes up
    /// (``startTask()``): like gevent, a spawn only schedules the greenlet, and one that waits
    /// for its first turn holds no task. Greenlets spawned in order start in that order.
    @usableFromInline
    func start(_ body: @escaping @Hub @Sendable () async throws -> Value) {
        // Set before the start is queued; queueing it orders this before `run`.
        bodyToRun = body
        LoopExecutor.shared.submit(.start(self))
    }

    /// Makes the greenlet's task now, in the calling task, so that it starts with the
    /// caller's task-local values (``spawnCarryingTaskLocals(file:line:_:)``).
    @Hub
    func startCarryingTaskLocals(_ body: @escaping @Hub @Sendable () async throws -> Value) {
        bodyToRun = body
        startTask()
    }

    /// Makes the greenlet's task and registers it, before the task's first job runs.
    func startTask() {
        let task = Task(executorPreference: LoopExecutor.shared) {
            await self.run()
        }
        let key = Sprout.taskKey(task)
        let killed = control.withLock { control in
            control.task = task
            control.taskKey = key
            return control.killed
        }
        // Killed while waiting for its turn: `run` sees the cancellation and ends it with
        // GreenletExit, its body never running.
        if killed { task.cancel() }
        GreenletRegistry.shared.add(task: key, self)
    }

    /// The greenlet's whole life, run as its task's body on the hub.
    @Hub
    func run() async {
        // Kept small on purpose: every byte of this frame is held by every suspended
        // greenlet, and frames that outgrow the task's first 1 KB slab cost another.
        guard let body = bodyToRun else { preconditionFailure("Sprout: a greenlet ran twice") }
        bodyToRun = nil  // what the body captures goes with it
        if Task.isCancelled {
            fail(CancellationError())
            return
        }
        do {
            finish(value: try await body(), failure: nil)
        } catch {
            fail(error)
        }
    }

    @Hub
    private func fail(_ error: any Error) {
        finish(value: nil, failure: Task.isCancelled && error is CancellationError ? GreenletExit(greenlet: name) : error)
    }

    /// Takes the value as `any Sendable`, the way ``Completion`` keeps it: a `Value?`
    /// parameter made this generic code look up `Optional<Value>`'s metadata at run time,
    /// twice per greenlet (a tenth of a spawn + join).
    @Hub
    private func finish(value: (any Sendable)?, failure: (any Error)?) {
        let task = control.withLock { control in
            control.task = nil
            return control.taskKey
        }
        complete(value: value, failure: failure)
        GreenletRegistry.shared.remove(task: task)
    }
}

extension Greenlet: CustomStringConvertible {
    public var description: String { "Greenlet(\(context.description))" }
}
