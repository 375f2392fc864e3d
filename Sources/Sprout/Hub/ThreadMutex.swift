import Synchronization

/// `Mutex` from Synchronization, with its hand-offs shown to ThreadSanitizer: the state
/// that Sprout's threads share (the hub's inbox, the greenlet table, completions) is
/// guarded by one of these.
///
/// On Linux, `Mutex` hands a contended lock over inside the kernel (`FUTEX_LOCK_PI` /
/// `FUTEX_UNLOCK_PI`, called from the uninstrumented Synchronization library), so
/// ThreadSanitizer never sees the release and the acquire, and reports every contended
/// access to the guarded value as a race. A four-thread counter that touches its value
/// only inside `withLock` gets such a report, and none with the annotations below.
/// `scripts/sanitize.sh thread` builds with `-DSPROUT_TSAN`, which tells ThreadSanitizer
/// about each lock and unlock; in any other build this is `Mutex` and costs nothing more.
package struct ThreadMutex<Value: ~Copyable>: ~Copyable, Sendable {
    private let mutex: Mutex<Value>

    /// A mutex guarding `initialValue`.
    package init(_ initialValue: consuming sending Value) {
        mutex = Mutex(initialValue)
    }

    /// Runs `body` with the value while holding the lock; rethrows what `body` throws.
    @inline(__always)
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if SPROUT_TSAN
        // Any address unique to this mutex names it to ThreadSanitizer; its own is stable
        // (a mutex lives in a class, a global or a closure's box and never moves).
        let key = withUnsafePointer(to: self) { UnsafeRawPointer($0) }
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            // Before the body's first access to the value, and after its last.
            tsanAcquire(key)
            defer { tsanRelease(key) }
            return try body(&value)
        }
        #else
        return try mutex.withLock(body)
        #endif
    }
}

#if SPROUT_TSAN
// ThreadSanitizer's annotation interface (compiler-rt's tsan_interface.h), linked in
// with its runtime; both take the address of a synchronization object.
@_silgen_name("__tsan_acquire") private func tsanAcquire(_ address: UnsafeRawPointer)
@_silgen_name("__tsan_release") private func tsanRelease(_ address: UnsafeRawPointer)
#endif
