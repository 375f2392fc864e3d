import Synchronization

/// Identity of a greenlet: its id, name and where it was spawned. Bound as a task-local
/// inside the greenlet, so reports (a blocked hub, an unobserved error) can name it.
public final class GreenletContext: Sendable {
    private static let nextID = Atomic<UInt64>(1)

    /// A process-unique number, in spawn order.
    public let id: UInt64
    /// The name given to `spawn`, or the spawn location when none was given.
    public let name: String
    /// Where the greenlet was spawned, as `file:line`.
    public let location: String

    init(name: String?, file: StaticString, line: UInt) {
        id = Self.nextID.add(1, ordering: .relaxed).oldValue
        location = "\(file):\(line)"
        self.name = name ?? "greenlet-\(id)"
    }

    /// The greenlet the current task runs, if any.
    @TaskLocal public static var current: GreenletContext?

    /// Tells the hub which greenlet runs now, so the blocking monitor can name it.
    static func noteRunning() {
        LoopExecutor.shared.currentGreenlet.store(current?.id ?? 0, ordering: .relaxed)
    }

    var description: String { "'\(name)' (spawned at \(location))" }
}
