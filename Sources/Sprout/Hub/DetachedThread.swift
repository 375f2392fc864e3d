import Glibc

/// Starts `body` on a new detached OS thread — for the hub, its blocking monitor and the
/// offload pool, which must not run on Swift's cooperative pool.
///
/// - Returns: `pthread_create`'s result (0 on success; `body` never runs otherwise).
@discardableResult
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Int32 {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&thread, &attributes, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    if rc != 0 { Unmanaged<Box>.fromOpaque(context).release() }
    return rc
}
