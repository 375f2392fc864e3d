import CCurl
import Sprout

import Glibc

/// The sockets libcurl wants watched, kept in a private epoll set that the hub watches as
/// one descriptor (one ``FDWatcher`` for the whole client).
///
/// A `uv_poll_t` per socket cost six `epoll_ctl` calls per request (libuv probes a new
/// descriptor with an add and a delete, and restarts a poll handle with a delete and an add
/// whenever its events change); here a short request costs an add, a modify and a delete.
/// Level-triggered, like the poll handles it replaces, because curl does not always read a
/// socket dry.
@Hub
final class CurlSocketSet {
    /// The epoll descriptor, readable while any socket in the set is ready.
    private let fd: Int32
    private let watcher: FDWatcher
    // State of the hub thread, touched several times per request: run-time exclusivity
    // checks on it cost more than the bookkeeping.
    /// The events each socket in the set is registered for.
    @exclusivity(unchecked) private var registered: [Int32: UInt32] = [:]
    @exclusivity(unchecked) private var ready = [epoll_event](repeating: epoll_event(), count: 128)

    /// An empty set; the hub calls `onReady` whenever a socket in it is ready (then
    /// ``forEachReady(_:)`` says which).
    ///
    /// - Throws: `HubError` (Sprout) if the kernel refuses an epoll descriptor (out of descriptors).
    init(onReady: @escaping () -> Void) throws(HubError) {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if fd < 0 { throw HubError(code: -errno, operation: "create an epoll set for libcurl's sockets") }
        do {
            watcher = try FDWatcher(fd: fd)
        } catch {
            _ = closeEpoll(fd)
            throw error
        }
        watcher.setCallback(events: .readable) { _, _ in onReady() }
    }

    /// The readiness curl asked for, as epoll events.
    static func events(forCurlPoll what: Int32) -> UInt32 {
        var events: UInt32 = 0
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { events |= EPOLLIN.rawValue }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { events |= EPOLLOUT.rawValue }
        return events
    }

    /// Whether `socket` is in the set.
    func contains(_ socket: Int32) -> Bool {
        registered[socket] != nil
    }

    /// Watches `socket` for `events` (adding it, or changing what it is watched for; nothing
    /// when that is already so).
    ///
    /// - Throws: `HubError` (Sprout) if epoll refuses the descriptor.
    func watch(_ socket: Int32, events: UInt32) throws(HubError) {
        let previous = registered[socket]
        if previous == events { return }
        var event = epoll_event()
        event.events = events
        event.data.fd = socket
        if epoll_ctl(fd, previous == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event) != 0 {
            throw HubError(code: -errno, operation: "watch socket \(socket) for libcurl")
        }
        registered[socket] = events
    }

    /// Forgets what was registered under `socket`'s number, which a newly opened socket now
    /// has: whatever held it before was closed, so its registration is stale.
    func forget(_ socket: Int32) {
        registered.removeValue(forKey: socket)
    }

    /// Stops watching `socket`. Called before the socket is closed: a closed descriptor
    /// leaves the set only once every copy of it is closed (a child being spawned holds
    /// one until its exec), and could meanwhile report events under a reused number.
    func remove(_ socket: Int32) {
        guard registered.removeValue(forKey: socket) != nil else { return }
        var event = epoll_event()
        epoll_ctl(fd, EPOLL_CTL_DEL, socket, &event)
    }

    /// Calls `body` with each ready socket and curl's `CURL_CSELECT_*` flags for it, for up
    /// to one batch of ready sockets (the hub's watcher fires again while more are ready).
    /// An error or hang-up counts as the readiness the socket is watched for, as libuv
    /// reports it, so curl finds the failure when it reads or writes.
    func forEachReady(_ body: (_ socket: Int32, _ flags: Int32) -> Void) {
        let count = ready.withUnsafeMutableBufferPointer { buffer in
            epoll_wait(fd, buffer.baseAddress, Int32(buffer.count), 0)
        }
        guard count > 0 else { return }
        for index in 0..<Int(count) {
            let socket = ready[index].data.fd
            // A socket an earlier callback of this batch removed (curl closed it) is stale.
            guard let watched = registered[socket] else { continue }
            var events = ready[index].events
            if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { events |= watched }
            var flags: Int32 = 0
            if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 { flags |= CURL_CSELECT_IN }
            if events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
            body(socket, flags)
        }
    }

    /// Stops the hub's watcher and closes the epoll descriptor (the sockets in it are
    /// curl's to close).
    func close() {
        registered = [:]
        watcher.close()
        _ = closeEpoll(fd)
    }
}

/// `close(2)`, reachable from inside a type whose own `close()` shadows it.
private func closeEpoll(_ fd: Int32) -> Int32 {
    Glibc.close(fd)
}
