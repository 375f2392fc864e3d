/// A ``ProcessLock`` was taken over from a holder that died holding it.
public enum ProcessLockError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The previous holder died (was killed) holding the lock, so what it guarded may be
    /// half-updated. The lock is consistent and released again: the next call proceeds.
    /// The flag-taking forms of `withLock` pass this as `previousHolderDied` instead, for
    /// callers that repair the data under the lock.
    case previousHolderDied

    public var description: String {
        switch self {
        case .previousHolderDied:
            "the previous holder of a ProcessLock died holding it: the data it guarded may be half-updated"
        }
    }
}
