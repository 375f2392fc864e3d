import Synchronization

/// What the registry needs of a running greenlet, whatever its value type.
protocol RunningGreenlet: AnyObject, Sendable {
    var context: GreenletContext { get }
    var isReady: Bool { get }
    func cancel()
    var joinable: any Joinable { get }
    /// Records the waiter the greenlet is parked on, so a kill can wake it.
    func setParked(_ waiter: (any ParkedWaiter)?)
}

/// The greenlets that are running now, keyed by their task, so teardown can kill them
/// all and a task can find the greenlet it runs.
final class GreenletRegistry: Sendable {
    static let shared = GreenletRegistry()

    private let running = Mutex(TaskTable<any RunningGreenlet>())

    /// Registers a greenlet whose task was just created.
    func add(task: UInt, _ greenlet: any RunningGreenlet) {
        running.withLock { $0.insert(task, greenlet) }
        // The task may have finished (on the hub) before it was registered here.
        if greenlet.isReady { remove(task: task) }
    }

    func remove(task: UInt) {
        running.withLock { $0.remove(task) }
    }

    func context(ofTask task: UInt) -> GreenletContext? {
        running.withLock { $0[task]?.context }
    }

    func contains(task: UInt) -> Bool {
        running.withLock { $0.contains(task) }
    }

    func greenlet(ofTask task: UInt) -> (any RunningGreenlet)? {
        running.withLock { $0[task] }
    }

    /// The greenlets running now, in spawn order.
    func snapshot() -> [any RunningGreenlet] {
        running.withLock { $0.allValues }.sorted { $0.context.id < $1.context.id }
    }

    /// How reports name the greenlet a task runs, or `nil` if it runs none.
    func describe(task: UInt) -> String? {
        context(ofTask: task).map { "greenlet \($0.description)" }
    }
}
