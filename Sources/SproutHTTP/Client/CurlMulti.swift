import CCurl
import Sprout

import Glibc
import Logging

/// One libcurl multi handle driven by the hub: curl tells us which sockets to watch
/// (`CURLMOPT_SOCKETFUNCTION` → a ``CurlSocketSet`` the hub watches as one descriptor)
/// and when to wake it (`CURLMOPT_TIMERFUNCTION` → a hub timer); both feed
/// `curl_multi_socket_action`. No thread of its own and no polling loop.
///
/// Sockets are opened and closed through curl's open/close-socket callbacks, so a
/// descriptor always leaves the watched set before it is closed.
@Hub
final class CurlMulti {
    private let multi: UnsafeMutableRawPointer
    // State of the hub thread, touched several times per request: run-time exclusivity
    // checks on it cost more than the bookkeeping.
    /// Made by the first transfer, so an unused client holds no descriptor.
    @exclusivity(unchecked) private var sockets: CurlSocketSet?
    /// Sockets opened through the open-socket callback and not yet closed.
    @exclusivity(unchecked) private(set) var openSockets: Set<Int32> = []
    @exclusivity(unchecked) private var timer: HubTimer?
    /// When `timer` fires, in ``monotonicNanoseconds()``.
    @exclusivity(unchecked) private var timerDeadline: UInt64 = 0
    /// The deadline curl named last (`nil`: none); `timer` may fire before it.
    @exclusivity(unchecked) private var curlDeadline: UInt64?
    @exclusivity(unchecked) private var kickQueued = false
    /// Pooled connections curl does not watch now. They stay in the set (taking them out and
    /// back costs epoll calls on every keep-alive request); an event on one (the server
    /// closing it) takes it out until curl wants the socket again.
    @exclusivity(unchecked) private var idleSockets: Set<Int32> = []
    @exclusivity(unchecked) private var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    @exclusivity(unchecked) private var spareHandles: [UnsafeMutableRawPointer] = []
    @exclusivity(unchecked) private var closed = false

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init(maxConnectionsPerHost: Int, maxCachedConnections: Int) {
        precondition(Self.globalInit, "Sprout: curl_global_init failed")
        multi = curl_multi_init()
        Self.setCallbacks(of: multi, to: Unmanaged.passUnretained(self).toOpaque())
        sprout_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, maxConnectionsPerHost))
        sprout_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxCachedConnections))
    }

    // Curl calls these on the hub thread, several times per request: they follow the hub's
    // idiom for per-event callbacks (see `Hub.onHubThread`).

    /// Points the multi handle's socket and timer callbacks at `owner`.
    nonisolated private static func setCallbacks(of multi: UnsafeMutableRawPointer, to owner: UnsafeMutableRawPointer) {
        sprout_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, owner)
        sprout_multi_setopt_socket_function(multi) { _, socket, what, userp, _ in
            Hub.onHubThread(CurlMulti.socketChangedOnHub)((CurlMulti.from(userp), socket, what))
            return 0
        }
        sprout_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, owner)
        sprout_multi_setopt_timer_function(multi) { _, milliseconds, userp in
            Hub.onHubThread(CurlMulti.timerChangedOnHub)((CurlMulti.from(userp), milliseconds))
            return 0
        }
    }

    /// Opens and closes an easy handle's sockets through `owner`, so it knows each one.
    nonisolated private static func setSocketCallbacks(of easy: UnsafeMutableRawPointer, to owner: UnsafeMutableRawPointer) {
        sprout_easy_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, owner)
        sprout_easy_setopt_open_socket_function(easy) { clientp, _, address in
            guard let address else { return CURL_SOCKET_BAD }
            let fd = socket(address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
            guard fd >= 0 else { return CURL_SOCKET_BAD }
            Hub.onHubThread(CurlMulti.socketOpenedOnHub)((CurlMulti.from(clientp), fd))
            return fd
        }
        sprout_easy_setopt_pointer(easy, CURLOPT_CLOSESOCKETDATA, owner)
        sprout_easy_setopt_close_socket_function(easy) { clientp, fd in
            return Hub.onHubThread(CurlMulti.closeSocketOnHub)((CurlMulti.from(clientp), fd))
        }
    }

    private nonisolated static let socketChangedOnHub: @Sendable @Hub ((CurlMulti, curl_socket_t, Int32)) -> Void = {
        $0.0.socketChanged($0.1, what: $0.2)
    }
    private nonisolated static let timerChangedOnHub: @Sendable @Hub ((CurlMulti, Int)) -> Void = {
        $0.0.timerChanged($0.1)
    }
    private nonisolated static let socketOpenedOnHub: @Sendable @Hub ((CurlMulti, Int32)) -> Void = {
        $0.0.socketOpened($0.1)
    }
    private nonisolated static let closeSocketOnHub: @Sendable @Hub ((CurlMulti, Int32)) -> Int32 = {
        $0.0.closeSocket($0.1)
    }

    nonisolated private static func from(_ pointer: UnsafeMutableRawPointer?) -> CurlMulti {
        Unmanaged<CurlMulti>.fromOpaque(pointer!).takeUnretainedValue()
    }

    /// Transfers in flight.
    var activeCount: Int { transfers.count }

    // MARK: Transfers

    /// An easy handle for a new transfer: a spare one whose last transfer ended well (it keeps
    /// the client-wide options, and every transfer sets all of its own), or a new one with the
    /// socket callbacks that keep the watched set consistent, handed to `prepare` for the rest.
    ///
    /// Reusing a handle without `curl_easy_reset` spares freeing and re-parsing the client-wide
    /// options on every request.
    func makeEasyHandle(prepare: (UnsafeMutableRawPointer) -> Void) -> UnsafeMutableRawPointer? {
        if let spare = spareHandles.popLast() { return spare }
        guard let easy = curl_easy_init() else { return nil }
        sprout_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        Self.setSocketCallbacks(of: easy, to: Unmanaged.passUnretained(self).toOpaque())
        prepare(easy)
        return easy
    }

    /// Takes an easy handle back once its transfer is over (never while added): kept for
    /// the next transfer if that one `succeeded`, else freed, so no state of an aborted or
    /// failed transfer (a pause, a half-read response) can reach another.
    func recycle(_ easy: UnsafeMutableRawPointer, succeeded: Bool) {
        if succeeded && spareHandles.count < 64 && !closed {
            spareHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// Starts `transfer`; its completion arrives through ``CurlTransfer/finish(_:)``.
    ///
    /// - Throws: ``HTTPError/failed(url:reason:)`` if the client is closed, its sockets
    ///   cannot be watched (out of descriptors), or libcurl refuses the transfer.
    func add(_ transfer: CurlTransfer) throws(HTTPError) {
        guard !closed else { throw .failed(url: transfer.url, reason: "the client is closed") }
        if sockets == nil {
            do {
                sockets = try CurlSocketSet { [unowned self] in socketsReady() }
            } catch {
                throw .failed(url: transfer.url, reason: "cannot watch sockets: \(error)")
            }
        }
        guard curl_multi_add_handle(multi, transfer.easy) == CURLM_OK else {
            throw .failed(url: transfer.url, reason: "libcurl refused the transfer")
        }
        transfers[transfer.easy] = transfer
    }

    /// Takes a transfer out of the multi handle before it completes (its greenlet was
    /// killed, or its stream dropped); other transfers are not touched.
    func abort(_ transfer: CurlTransfer) {
        guard transfers.removeValue(forKey: transfer.easy) != nil else { return }
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.finish(CURLE_ABORTED_BY_CALLBACK)
    }

    /// Aborts every transfer and closes every connection; the multi handle is unusable after.
    func close() {
        guard !closed else { return }
        closed = true
        for transfer in Array(transfers.values) { abort(transfer) }
        if let timer { Hub.cancelTimer(timer) }
        timer = nil
        curl_multi_cleanup(multi)
        for easy in spareHandles { curl_easy_cleanup(easy) }
        spareHandles = []
        sockets?.close()
        sockets = nil
    }

    // MARK: Curl's callbacks

    private func socketChanged(_ fd: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            // A socket curl keeps (an idle pooled connection) stays in the set until the
            // close-socket callback; any other (the resolver's) is about to be closed.
            if openSockets.contains(fd) {
                idleSockets.insert(fd)
            } else {
                sockets?.remove(fd)
            }
            return
        }
        idleSockets.remove(fd)
        do {
            try sockets?.watch(fd, events: CurlSocketSet.events(forCurlPoll: what))
        } catch {
            Logger(label: "sprout.http").error("cannot watch socket \(fd) for libcurl: \(error)")
        }
    }

    /// The hub saw the socket set readable: hand each ready socket to curl.
    private func socketsReady() {
        guard !closed, let sockets else { return }
        var running: Int32 = 0
        sockets.forEachReady { fd, flags in
            if idleSockets.contains(fd) {
                // Nobody waits on a pooled connection: the server closed it, or sent what no
                // request asked for. Curl finds out when it next takes the connection.
                sockets.remove(fd)
                return
            }
            curl_multi_socket_action(multi, fd, flags, &running)
        }
        collectFinished()
    }

    private func timerChanged(_ milliseconds: Int) {
        guard milliseconds >= 0 else {
            curlDeadline = nil
            if let timer { Hub.cancelTimer(timer) }
            timer = nil
            return
        }
        let now = monotonicNanoseconds()
        let nanoseconds = UInt64(milliseconds) * 1_000_000
        curlDeadline = now + nanoseconds
        if milliseconds == 0 {
            // "Now" (a transfer was just added): run it after the current hub job, in the same
            // turn, so 100 greenlets starting requests cost one pass over curl, not one loop turn
            // each. Never call back into curl from inside its own callback.
            if !kickQueued {
                kickQueued = true
                Hub.later { [self] in
                    kickQueued = false
                    act(on: CURL_SOCKET_TIMEOUT, flags: 0)
                }
            }
            return
        }
        // Curl moves its deadline on with almost every request; a timer that fires no later
        // stays (on firing it waits out the rest), which spares re-arming the hub's kernel
        // timer per request.
        if timer != nil, timerDeadline <= now + nanoseconds { return }
        startTimer(nanoseconds: nanoseconds, now: now)
    }

    private func startTimer(nanoseconds: UInt64, now: UInt64) {
        if let timer { Hub.cancelTimer(timer) }
        timerDeadline = now + nanoseconds
        timer = Hub.schedule(afterNanoseconds: nanoseconds) { [unowned self] in
            timer = nil
            guard let curlDeadline else { return }
            // Curl names a deadline only when it changes, so one not reached yet is waited
            // out here rather than asked of curl again.
            let now = monotonicNanoseconds()
            if now < curlDeadline {
                startTimer(nanoseconds: curlDeadline - now, now: now)
            } else {
                act(on: CURL_SOCKET_TIMEOUT, flags: 0)
            }
        }
    }

    private func socketOpened(_ fd: Int32) {
        openSockets.insert(fd)
        // Curl closes some descriptors itself (its resolver's), so the number may be in the
        // set from one of those.
        sockets?.forget(fd)
    }

    private func closeSocket(_ fd: Int32) -> Int32 {
        sockets?.remove(fd)
        openSockets.remove(fd)
        idleSockets.remove(fd)
        return Glibc.close(fd)
    }

    private func act(on fd: Int32, flags: Int32) {
        guard !closed else { return }
        var running: Int32 = 0
        curl_multi_socket_action(multi, fd, flags, &running)
        collectFinished()
    }

    private func collectFinished() {
        var pending: Int32 = 0
        while let message = curl_multi_info_read(multi, &pending) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            curl_multi_remove_handle(multi, easy)
            transfers.removeValue(forKey: easy)?.finish(result)
        }
    }
}
