/// Misuse of a ``Lock``, ``RLock`` or ``BoundedSemaphore``.
public enum LockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A release of a lock that is not held.
    case notLocked
    /// A release of an ``RLock`` by a greenlet that does not hold it.
    case notOwner
    /// A ``BoundedSemaphore`` released more times than acquired: it would exceed its bound.
    case overReleased(bound: Int)

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .notLocked: "release of a lock that is not held"
        case .notOwner: "release of a re-entrant lock by a greenlet that does not hold it"
        case .overReleased(let bound): "semaphore released more times than acquired (bound \(bound))"
        }
    }
}
