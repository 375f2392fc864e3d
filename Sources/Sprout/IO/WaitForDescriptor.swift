/// Waits until `fd` is readable (or has an error pending) — gevent's `wait_read` — for a
/// descriptor the program manages itself, such as a listening socket whose connections go
/// to pool workers as raw descriptors. Other greenlets run meanwhile. Only one greenlet may
/// wait on a descriptor at a time, and none while a Sprout stream owns it.
///
/// - Returns: `false` if `timeout` seconds passed first.
/// - Throws: ``IOError`` if the descriptor cannot be polled (`EBADF`, say) or reports a
///   poll error; `CancellationError` if the greenlet is killed.
@Hub
public func waitReadable(_ fd: Int32, timeout: Double? = nil) async throws -> Bool {
    do {
        let watcher = try FDWatcher(fd: fd)
        defer { watcher.close() }
        return try await watcher.waitReadable(timeout: timeout)
    } catch let error as HubError {
        throw IOError(code: error.code, operation: "wait to read", peer: "fd \(fd)")
    }
}

/// Waits until `fd` is writable (or has an error pending) — gevent's `wait_write`; see
/// ``waitReadable(_:timeout:)``.
///
/// - Returns: `false` if `timeout` seconds passed first.
/// - Throws: ``IOError`` if the descriptor cannot be polled or reports a poll error;
///   `CancellationError` if the greenlet is killed.
@Hub
public func waitWritable(_ fd: Int32, timeout: Double? = nil) async throws -> Bool {
    do {
        let watcher = try FDWatcher(fd: fd)
        defer { watcher.close() }
        return try await watcher.waitWritable(timeout: timeout)
    } catch let error as HubError {
        throw IOError(code: error.code, operation: "wait to write", peer: "fd \(fd)")
    }
}
