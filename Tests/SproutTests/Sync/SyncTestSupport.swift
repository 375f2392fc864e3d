import Glibc
@testable import Sprout

/// Real OS threads, for the cross-thread entry points (never the cooperative pool).
enum OSThread {
    /// Calls `body` on a new detached pthread.
    static func detach(_ body: @escaping @Sendable () -> Void) {
        let rc = startDetachedThread(body)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }
}

