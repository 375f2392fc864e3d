import Synchronization

/// What the registry needs of a running greenlet, whatever its value type. `Greenlet`, a
/// layer above, is the one conformer; code there turns it back into a handle
/// (`AnyGreenlet`, `Joinable`), which the hub does not know.
protocol RunningGreenlet: AnyObject, Sendable {
    var context: GreenletContext { get }
    var isReady: Bool { get }
    func cancel()
    /// Makes the greenlet's task and registers it; the hub calls it when the greenlet's
    /// start, queued by its spawn, comes up. The task's first job runs right after.
    func startTask()
    /// Records the waiter the greenlet is parked on, so a kill can wake it.
    func setParked(_ waiter: (any ParkedWaiter)?)
}

/// What the registry knows of a task that prefers the hub as its executor.
enum HubTask {
    /// A greenlet: killed at teardown, and the one `park` tells of a kill.
    case greenlet(any RunningGreenlet)
    /// One of Sprout's own tasks (a timeout's body, a child's reaper): its jobs run like a
    /// greenlet's, and it parks like any other task. It acts for the greenlet that started
    /// it, if any: a timeout's body is still that greenlet's code.
    case helper(actingFor: (any RunningGreenlet)?)

    var greenlet: (any RunningGreenlet)? {
        if case .greenlet(let greenlet) = self { greenlet } else { nil }
    }

    /// The greenlet the task runs or acts for.
    var context: GreenletContext? {
        switch self {
        case .greenlet(let greenlet): greenlet.context
        case .helper(let actingFor): actingFor?.context
        }
    }
}

/// The tasks that prefer the hub as their executor and are running now — greenlets and
/// Sprout's helper tasks — keyed by their task, so the hub runs their jobs with the hub
/// as task executor, teardown can kill the greenlets, and a task can find its greenlet.
final class GreenletRegistry: Sendable {
    static let shared = GreenletRegistry()

    private let running = ThreadMutex(TaskTable<HubTask>())

    /// Registers a greenlet whose task was just created, before the task's first job runs
    /// (``RunningGreenlet/startTask()`` runs on the hub, which runs that job next).
    func add(task: UInt, _ greenlet: any RunningGreenlet) {
        running.withLock { $0.insert(task, .greenlet(greenlet)) }
    }

    /// Registers a helper task, from inside it.
    func addHelper(task: UInt, actingFor greenlet: (any RunningGreenlet)?) {
        running.withLock { $0.insert(task, .helper(actingFor: greenlet)) }
    }

    /// How many tasks are registered: greenlets that have started and helper tasks.
    var count: Int {
        running.withLock { $0.count }
    }

    func remove(task: UInt) {
        running.withLock { $0.remove(task) }
    }

    /// The greenlet a task runs, or acts for (a helper task).
    func context(ofTask task: UInt) -> GreenletContext? {
        running.withLock { $0[task]?.context }
    }

    /// True for a greenlet's or a helper's task.
    func contains(task: UInt) -> Bool {
        running.withLock { $0.contains(task) }
    }

    func greenlet(ofTask task: UInt) -> (any RunningGreenlet)? {
        running.withLock { $0[task]?.greenlet }
    }

    /// The greenlet the current task runs, or acts for (a helper task).
    func current() -> (any RunningGreenlet)? {
        withUnsafeCurrentTask { task in task.flatMap { greenlet(actingFor: taskKey($0)) } }
    }

    /// The greenlet a task runs, or acts for (a helper task).
    func greenlet(actingFor task: UInt) -> (any RunningGreenlet)? {
        running.withLock { table in
            switch table[task] {
            case .greenlet(let greenlet): greenlet
            case .helper(let actingFor): actingFor
            case nil: nil
            }
        }
    }

    /// The greenlets running now or waiting for their first turn, in spawn order. Hub thread only.
    func snapshot() -> [any RunningGreenlet] {
        let started = running.withLock { $0.allValues }.compactMap(\.greenlet)
        return (started + LoopExecutor.shared.greenletsWaitingToStart()).sorted { $0.context.id < $1.context.id }
    }

    /// How reports name the greenlet a task runs, or `nil` if it runs none.
    func describe(task: UInt) -> String? {
        context(ofTask: task).map { "greenlet \($0.description)" }
    }
}
