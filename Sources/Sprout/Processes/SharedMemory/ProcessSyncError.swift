/// Why a call on a process-shared ``ProcessRLock``, ``ProcessSemaphore`` or
/// ``ProcessBarrier`` failed.
public enum ProcessSyncError: Error, Equatable, Sendable, CustomStringConvertible {
    /// ``ProcessRLock/release()`` by a greenlet or thread that does not hold the lock.
    case notOwner
    /// ``ProcessSemaphore/release()`` more often than it was acquired.
    case releasedTooOften
    /// The barrier is broken: a wait timed out, ``ProcessBarrier/abort()`` was called, or a
    /// process died waiting at it (Python's `BrokenBarrierError`).
    case brokenBarrier
    /// A count outside what the primitive allows (a semaphore's value, a barrier's parties).
    case invalidCount(Int)

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .notOwner: "release of a process RLock that the caller does not hold"
        case .releasedTooOften: "a process semaphore was released more often than acquired"
        case .brokenBarrier: "the process barrier is broken (a timeout, an abort, or a party died waiting)"
        case .invalidCount(let count): "\(count) is not a valid count here"
        }
    }
}
