import Synchronization

/// Identity of a greenlet: its id, name and where it was spawned, for reports (a blocked
/// hub, an unobserved error) and for code that needs to know which greenlet it runs in.
public struct GreenletContext: Sendable {

    /// A process-unique number, in spawn order.
    public let id: UInt64
    private let givenName: String?
    private let file: StaticString
    private let line: UInt

    init(name: String?, file: StaticString, line: UInt) {
        id = greenletIDs.add(1, ordering: .relaxed).oldValue
        givenName = name
        self.file = file
        self.line = line
    }

    /// The name given to `spawn`, or `greenlet-<id>` when none was given.
    public var name: String { givenName ?? "greenlet-\(id)" }

    /// Where the greenlet was spawned, as `file:line`.
    public var location: String { "\(file):\(line)" }

    /// The greenlet the current task runs — inside a ``withTimeout(_:_:)-(Double?,_)`` body, the greenlet
    /// that called it — or `nil` outside any greenlet.
    public static var current: GreenletContext? {
        withUnsafeCurrentTask { task in
            task.flatMap { GreenletRegistry.shared.context(ofTask: taskKey($0)) }
        }
    }

    var description: String { "'\(name)' (spawned at \(location))" }
}

private let greenletIDs = Atomic<UInt64>(1)

/// A task's identity as a number: the address of its runtime object, the same whether
/// reached through a `Task` handle or through `withUnsafeCurrentTask`.
func taskKey(_ task: UnsafeCurrentTask) -> UInt {
    unsafeBitCast(task, to: UInt.self)
}

/// See ``taskKey(_:)-(UnsafeCurrentTask)``.
func taskKey<Success, Failure>(_ task: Task<Success, Failure>) -> UInt {
    unsafeBitCast(task, to: UInt.self)
}
