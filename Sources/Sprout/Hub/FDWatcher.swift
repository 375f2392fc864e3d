import CLibuv

/// Readiness of a file descriptor, as libuv's poll reports it.
package struct FDEvents: OptionSet, Sendable {
    package let rawValue: Int32
    package init(rawValue: Int32) { self.rawValue = rawValue }
    package static let readable = FDEvents(rawValue: Int32(UV_READABLE.rawValue))
    package static let writable = FDEvents(rawValue: Int32(UV_WRITABLE.rawValue))
    package static let disconnect = FDEvents(rawValue: Int32(UV_DISCONNECT.rawValue))
}

/// Watches one file descriptor for readiness on the hub (a `uv_poll_t`). Used by layers
/// that own their sockets (libcurl, worker channels): either await readiness from a
/// greenlet, or get a callback per event. libuv allows one watcher per descriptor.
/// Hub-thread only; `close()` before dropping it (the descriptor itself is not closed).
@Hub
package final class FDWatcher {
    package let fd: Int32
    private let handle: UnsafeMutablePointer<uv_poll_t>
    private var callback: ((_ status: Int32, _ events: FDEvents) -> Void)?
    private var readWaiters: [Waiter<Int32>] = []
    private var writeWaiters: [Waiter<Int32>] = []
    private var watching: FDEvents = []
    private var callbackEvents: FDEvents = []
    private var closed = false

    /// Starts nothing yet; `fd` must stay open until `close()`.
    ///
    /// - Throws: ``HubError`` if libuv cannot poll this descriptor.
    package init(fd: Int32) throws(HubError) {
        self.fd = fd
        handle = .allocate(capacity: 1)
        let rc = uv_poll_init(LoopExecutor.shared.loop, handle, fd)
        if rc != 0 {
            handle.deallocate()
            closed = true
            throw HubError(code: rc, operation: "watch fd \(fd)")
        }
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Calls `callback` on the hub for every readiness event in `events` until
    /// `stopCallbacks()`; a negative status is a libuv error for the descriptor.
    package func setCallback(events: FDEvents, _ callback: @escaping (_ status: Int32, _ events: FDEvents) -> Void) {
        self.callback = callback
        callbackEvents = events
        watch(events.union(waitingEvents))
    }

    /// Lets the loop end while this watcher is active, for a watcher that outlives every
    /// wait (a fork server's control socket): only real work keeps the loop alive.
    package func letLoopEnd() {
        guard !closed else { return }
        uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self))
    }

    /// Stops the callbacks given to `setCallback`.
    package func stopCallbacks() {
        callback = nil
        callbackEvents = []
        watch(waitingEvents)
    }

    /// Waits until the descriptor is readable, an error is pending, or `timeout` passes.
    ///
    /// - Returns: `false` on timeout.
    /// - Throws: `CancellationError` if the greenlet is killed; ``HubError`` for a poll error.
    package func waitReadable(timeout: Double? = nil) async throws -> Bool {
        try await wait(for: .readable, timeout: timeout)
    }

    /// Waits until the descriptor is writable, an error is pending, or `timeout` passes.
    ///
    /// - Returns: `false` on timeout.
    /// - Throws: `CancellationError` if the greenlet is killed; ``HubError`` for a poll error.
    package func waitWritable(timeout: Double? = nil) async throws -> Bool {
        try await wait(for: .writable, timeout: timeout)
    }

    /// Stops watching, wakes waiters with an `ECANCELED` error, frees the handle.
    package func close() {
        guard !closed else { return }
        closed = true
        callback = nil
        let waiters = readWaiters + writeWaiters
        readWaiters = []
        writeWaiters = []
        for waiter in waiters { waiter.wake(with: Int32(UV_ECANCELED.rawValue)) }
        closeHandle(handle)
    }

    private var waitingEvents: FDEvents {
        var events: FDEvents = []
        if !readWaiters.isEmpty { events.insert(.readable) }
        if !writeWaiters.isEmpty { events.insert(.writable) }
        return events
    }

    private func wait(for event: FDEvents, timeout: Double?) async throws -> Bool {
        guard !closed else { throw HubError(code: Int32(UV_EBADF.rawValue), operation: "wait on closed fd \(fd)") }
        let waiter = Waiter<Int32>()
        let wake = await park(waiter, timeout: timeout) { waiter in
            if event == .readable { readWaiters.append(waiter) } else { writeWaiters.append(waiter) }
            waiter.onAbandon = { [self] in
                readWaiters.removeAll { $0 === waiter }
                writeWaiters.removeAll { $0 === waiter }
                watch(waitingEvents.union(callbackEvents))
            }
            watch(watching.union(event))
        }
        switch wake {
        case .value(let status):
            if status < 0 { throw HubError(code: status, operation: "poll fd \(fd)") }
            return true
        case .timedOut: return false
        case .cancelled: throw CancellationError()
        }
    }

    private func watch(_ events: FDEvents) {
        guard !closed, events != watching else { return }
        watching = events
        if events.isEmpty {
            uv_poll_stop(handle)
            return
        }
        Self.startPolling(handle, events)
    }

    /// Nonisolated on purpose: a callback written inside a `@Hub` method is checked for
    /// isolation on every call.
    private nonisolated static func startPolling(_ handle: UnsafeMutablePointer<uv_poll_t>, _ events: FDEvents) {
        uv_poll_start(handle, events.rawValue) { handle, status, events in
            let watcher = Unmanaged<FDWatcher>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            Hub.onHubThread(FDWatcher.fireOnHub)((watcher, status, FDEvents(rawValue: events)))
        }
    }

    /// The poll callback's way in, a constant: `Hub.assumeIsolated` with a capturing
    /// closure boxes it on every event.
    private nonisolated static let fireOnHub: @Sendable @Hub ((FDWatcher, Int32, FDEvents)) -> Void = {
        $0.0.fire(status: $0.1, events: $0.2)
    }

    private func fire(status: Int32, events: FDEvents) {
        // On a poll error libuv has already stopped the handle: forget what it watched, so
        // the next wait or callback starts it again instead of waiting forever.
        if status < 0 { watching = [] }
        if status < 0 || events.contains(.readable) || events.contains(.disconnect) {
            let waiters = readWaiters
            readWaiters = []
            for waiter in waiters { waiter.wake(with: status) }
        }
        if status < 0 || events.contains(.writable) {
            let waiters = writeWaiters
            writeWaiters = []
            for waiter in waiters { waiter.wake(with: status) }
        }
        callback?(status, events)
        watch(waitingEvents.union(callbackEvents))
    }
}
