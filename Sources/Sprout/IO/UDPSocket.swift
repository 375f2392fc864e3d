import CLibuv

/// A UDP socket on the hub: datagrams sent and received without blocking other
/// greenlets.
///
/// ```swift
/// let socket = try UDPSocket(host: "127.0.0.1", port: 0)
/// try await socket.send(Array("ping".utf8), to: peer)
/// let (reply, from) = try await socket.receive()
/// ```
///
/// Received datagrams wait in a bounded queue (``queueLimit``); when it is full the
/// socket stops reading and the kernel drops what arrives, as UDP does on any full
/// buffer. ``close()`` when done. Hub-thread only.
@Hub
public final class UDPSocket {
    /// Datagrams held for ``receive(timeout:)-(Double?)`` before the socket stops reading.
    public var queueLimit = 256

    private let handle: UnsafeMutablePointer<uv_udp_t>
    private var queue: [(bytes: [UInt8], from: SocketAddress)] = []
    private var queueStart = 0
    private var receiving = false
    private var failure: IOError?
    private var waiters: [Waiter<Void>] = []
    /// True once ``close()`` has been called.
    public private(set) var isClosed = false

    /// A UDP socket bound to `host:port` (a numeric address; port 0 picks a free port).
    ///
    /// - Throws: ``IOError`` (`bind udp 127.0.0.1:53: EACCES`, `EINVAL` for a host that
    ///   is not numeric).
    public init(host: String = "127.0.0.1", port: Int = 0) throws(IOError) {
        let operation = "bind udp", peer = "\(host):\(port)"
        guard let address = SocketAddress(host: host, port: port) else {
            throw IOError(code: Int32(UV_EINVAL.rawValue), operation: "bind udp (not a numeric address)", peer: peer)
        }
        handle = .allocate(capacity: 1)
        var rc = uv_udp_init(Hub.loop, handle)
        if rc != 0 {
            handle.deallocate()
            throw IOError(code: rc, operation: operation, peer: peer)
        }
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        rc = address.withSockaddr { uv_udp_bind(handle, $0, 0) }
        if rc != 0 {
            isClosed = true
            closeHandle(handle)
            throw IOError(code: rc, operation: operation, peer: peer)
        }
    }

    isolated deinit {
        if !isClosed { closeHandle(handle) }
    }

    /// The address the socket is bound to; `nil` once closed.
    public var localAddress: SocketAddress? {
        isClosed ? nil : SocketAddress.read { uv_udp_getsockname(handle, $0, $1) }
    }

    /// Sends one datagram to `address`.
    ///
    /// - Throws: ``IOError`` (`send udp to 127.0.0.1:9: EMSGSIZE`, after ``close()``:
    ///   `EBADF`); `CancellationError` if the greenlet is killed while the datagram waits
    ///   for the kernel.
    public func send(_ bytes: [UInt8], to address: SocketAddress) async throws {
        let operation = "send udp to", peer = "\(address)"
        if isClosed { throw IOError(code: Int32(UV_EBADF.rawValue), operation: "send udp after close to", peer: peer) }
        let sent = bytes.withUnsafeBytes { raw in
            var buffer = uv_buf_init(UnsafeMutableRawPointer(mutating: raw.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) },
                                     UInt32(raw.count))
            return address.withSockaddr { uv_udp_try_send(handle, &buffer, 1, $0) }
        }
        if sent >= 0 { return }
        if sent != Int32(UV_EAGAIN.rawValue) { throw IOError(code: sent, operation: operation, peer: peer) }
        // The kernel's buffer is full (or sends are queued): queue it and wait for it to go.
        let count = bytes.count
        let requestSize = (MemoryLayout<uv_udp_send_t>.stride + 15) & ~15
        let memory = UnsafeMutableRawPointer.allocate(byteCount: requestSize + max(count, 1), alignment: 16)
        let request = memory.bindMemory(to: uv_udp_send_t.self, capacity: 1)
        let payload = memory + requestSize
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { payload.copyMemory(from: base, byteCount: count) }
        }
        let completion = RequestCompletion<Int32>()
        request.pointee.data = completion.retainedPointer()
        var buffer = uv_buf_init(payload.assumingMemoryBound(to: CChar.self), UInt32(count))
        let rc = address.withSockaddr { destination in
            uv_udp_send(request, handle, &buffer, 1, destination) { request, status in
                let completion = RequestCompletion<Int32>.take(request!.pointee.data)
                UnsafeMutableRawPointer(request!).deallocate()
                Hub.assumeIsolated { _ = completion.waiter.wake(with: status) }
            }
        }
        if rc != 0 {
            _ = RequestCompletion<Int32>.take(request.pointee.data)
            memory.deallocate()
            throw IOError(code: rc, operation: operation, peer: peer)
        }
        switch await park(completion.waiter) {
        case .value(let status) where status < 0:
            throw IOError(code: status, operation: operation, peer: peer)
        case .value, .timedOut: return
        case .cancelled: throw CancellationError()
        }
    }

    /// Waits for the next datagram.
    ///
    /// - Parameter timeout: seconds to wait (`nil`: as long as it takes).
    /// - Returns: the datagram (possibly empty) and its sender; datagrams longer than
    ///   64 KiB are truncated.
    /// - Throws: ``IOError`` (`ETIMEDOUT` after `timeout`, `EBADF` after ``close()``, a
    ///   receive error); `CancellationError` if the greenlet is killed.
    public func receive(timeout: Double? = nil) async throws -> (bytes: [UInt8], from: SocketAddress) {
        let deadline = Deadline(timeout: timeout)
        while queueStart == queue.count {
            if let failure { throw failure }
            if isClosed { throw IOError(code: Int32(UV_EBADF.rawValue), operation: "receive udp after close") }
            startReceiving()
            let woken = try await parkUnlessReady(
                timeout: deadline?.secondsLeft,
                ready: { queueStart < queue.count || failure != nil || isClosed },
                enlist: { waiters.append($0) },
                abandoned: { waiters.removeAll { !$0.isWaiting } }
            )
            if !woken {
                throw IOError(code: Int32(UV_ETIMEDOUT.rawValue), operation: "receive udp on", peer: localAddress?.description)
            }
        }
        let datagram = queue[queueStart]
        queueStart += 1
        if queueStart == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueStart = 0
        }
        return datagram
    }

    /// Closes the socket; waiting receivers fail with `EBADF`. Closing twice does nothing.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        receiving = false
        closeHandle(handle)
        wakeAll()
    }

    private func startReceiving() {
        guard !receiving else { return }
        let rc = Self.startReceiving(handle)
        if rc != 0 {
            failure = IOError(code: rc, operation: "receive udp")
            return
        }
        receiving = true
    }

    /// Starts libuv's reads; each datagram enters the hub the way every per-event callback
    /// does (see `Hub.onHubThread`).
    private nonisolated static func startReceiving(_ handle: UnsafeMutablePointer<uv_udp_t>) -> Int32 {
        uv_udp_recv_start(handle, { _, _, buffer in
            buffer!.pointee = sharedReadBuffer.uvBuffer
        }, { handle, count, _, address, _ in
            let owner = Unmanaged<UDPSocket>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            // An empty read without an address is libuv's "nothing more for now".
            guard count != 0 || address != nil else { return }
            let datagram = address.flatMap { SocketAddress($0) }.map { (Array(sharedReadBuffer.bytes(max(count, 0))), $0) }
            Hub.onHubThread(UDPSocket.receivedOnHub)((owner, count, datagram))
        })
    }

    private nonisolated static let receivedOnHub: @Sendable @Hub ((UDPSocket, Int, ([UInt8], SocketAddress)?)) -> Void = {
        $0.0.received($0.1, $0.2)
    }

    private func received(_ count: Int, _ datagram: ([UInt8], SocketAddress)?) {
        if count < 0 {
            failure = IOError(code: Int32(count), operation: "receive udp")
        } else if let datagram {
            queue.append((datagram.0, datagram.1))
        }
        if count < 0 || queue.count - queueStart >= queueLimit {
            receiving = false
            uv_udp_recv_stop(handle)
        }
        wakeAll()
    }

    private func wakeAll() {
        let waiters = self.waiters
        self.waiters = []
        for waiter in waiters { waiter.wake() }
    }
}
