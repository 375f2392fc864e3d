/// Why a queue or channel operation failed.
public enum QueueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The queue was closed: no more puts, and gets fail once it is empty.
    case closed
    /// A non-blocking put found the queue full, or a put's timeout passed first (gevent's `Full`).
    case full
    /// A non-blocking get found the queue empty, or a get's timeout passed first (gevent's `Empty`).
    case empty
    /// ``GreenletQueue/taskDone()`` was called more times than items were put.
    case taskDoneTooOften

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .closed: "the queue is closed"
        case .full: "the queue is full"
        case .empty: "the queue is empty"
        case .taskDoneTooOften: "taskDone() called more times than items were put"
        }
    }
}
