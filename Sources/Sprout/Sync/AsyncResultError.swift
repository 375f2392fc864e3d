/// Misuse of an ``AsyncResult``.
public enum AsyncResultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// ``AsyncResult/set(_:)`` or ``AsyncResult/fail(_:)`` on a result that already has its outcome.
    case alreadySet

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .alreadySet: "the AsyncResult already has its outcome; it is set only once"
        }
    }
}
