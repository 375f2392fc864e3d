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
    try await waitOn(fd, readable: true, timeout: timeout)
}

/// Waits until `fd` is writable (or has an error pending) — gevent's `wait_write`; see
/// ``waitReadable(_:timeout:)-(_,Double?)``.
///
/// - Returns: `false` if `timeout` seconds passed first.
/// - Throws: ``IOError`` if the descriptor cannot be polled or reports a poll error;
///   `CancellationError` if the greenlet is killed.
@Hub
public func waitWritable(_ fd: Int32, timeout: Double? = nil) async throws -> Bool {
    try await waitOn(fd, readable: false, timeout: timeout)
}

/// One wait of ``waitReadable(_:timeout:)`` or ``waitWritable(_:timeout:)``, with the
/// hub's watcher error turned into the I/O operation's.
@Hub
private func waitOn(_ fd: Int32, readable: Bool, timeout: Double?) async throws -> Bool {
    do {
        let watcher = try FDWatcher(fd: fd)
        defer { watcher.close() }
        return readable
            ? try await watcher.waitReadable(timeout: timeout)
            : try await watcher.waitWritable(timeout: timeout)
    } catch let error as HubError {
        throw IOError(code: error.code, operation: readable ? "wait to read" : "wait to write", peer: "fd \(fd)")
    }
}
