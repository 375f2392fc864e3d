import CLibuv

import Glibc

/// A connected stream of bytes on the hub — a TCP or Unix-domain socket, a pipe, a
/// terminal — whose reads and writes suspend only the calling greenlet.
///
/// Reading: ``read(upTo:)`` returns what has arrived (an empty array at end of stream);
/// ``readExactly(_:)``, ``readUntil(_:maxLength:)`` and ``readToEnd(maxLength:)`` build
/// on it. The stream reads ahead only a bounded amount (``readAheadLimit``) when nobody
/// is reading, so a slow consumer holds back a fast producer through TCP flow control.
///
/// Writing: ``write(_:)`` hands the bytes to the kernel at once when it can; what the
/// kernel cannot take yet is queued, and the writer waits while more than
/// ``writeHighWater`` bytes are queued, so memory stays bounded on a slow peer.
///
/// ``close()`` when done (a server closes its connections itself). The stream belongs to
/// the hub: ``read(upTo:)`` and ``write(_:)`` run in their caller's isolation and cost a
/// greenlet no executor hop, and a task off the hub may call them too (they hop to the
/// hub and back); everything else is `@Hub`.
@Hub
public class ByteStream {
    /// Bytes queued for the kernel above which ``write(_:)`` waits.
    public var writeHighWater = 1 << 20
    /// Bytes read ahead of the reader at which the stream stops reading from the kernel.
    public var readAheadLimit = 256 << 10
    /// Seconds ``close()`` lets queued bytes drain before it closes the descriptor anyway.
    public var closeLinger = 30.0

    let stream: UnsafeMutablePointer<uv_stream_t>
    /// The hub's one read buffer, held here so the read callbacks reach it without a
    /// global's lazy-initialisation check.
    private let readBuffer = sharedReadBuffer
    // The state below lives on the hub thread and is touched several times per read and
    // write: run-time exclusivity checks on it cost more than the bookkeeping itself.
    @exclusivity(unchecked) private var buffered: [UInt8] = []
    @exclusivity(unchecked) private var bufferedStart = 0
    @exclusivity(unchecked) private var reading = false
    @exclusivity(unchecked) private var atEnd = false
    @exclusivity(unchecked) private var readFailure: IOError?
    @exclusivity(unchecked) private var writeFailure: IOError?
    @exclusivity(unchecked) private var readWaiters: [Waiter<Void>] = []
    /// The last reader's waiter, parked on again by the next read once nothing else
    /// holds it (a read that timed out or was killed may still sit in `readWaiters`).
    @exclusivity(unchecked) private var spareReadWaiter: Waiter<Void>?
    @exclusivity(unchecked) private var drainWaiters: [Waiter<Void>] = []
    @exclusivity(unchecked) private var writesInFlight = 0
    @exclusivity(unchecked) private var writeShut = false
    @exclusivity(unchecked) private var handleClosed = false
    private var lingerTimer: HubTimer?
    /// True once ``close()`` has been called.
    @exclusivity(unchecked) public private(set) var isClosed = false

    /// Takes ownership of an initialised libuv stream handle allocated with `allocate`.
    package init(handle: UnsafeMutablePointer<uv_stream_t>) {
        stream = handle
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        ignoreBrokenPipe()
    }

    isolated deinit {
        if !handleClosed { closeHandle(stream) }
    }

    /// Whom the stream talks to, for error messages (`127.0.0.1:8080`, a socket path).
    package func peerDescription() -> String { "stream" }

    /// Bytes read from the kernel and not yet returned to a reader.
    package var bufferedCount: Int { buffered.count - bufferedStart }

    /// Bytes written but still queued in libuv, waiting for the kernel to take them.
    package var queuedWriteBytes: Int { handleClosed ? 0 : uv_stream_get_write_queue_size(stream) }

    // MARK: Reading

    /// Returns the next bytes that arrive, at most `maxBytes`, waiting until some do.
    ///
    /// - Returns: between 1 and `maxBytes` bytes; an empty array at end of stream.
    /// - Throws: ``IOError`` if the connection fails (`ECONNRESET`) or the stream is
    ///   closed; `CancellationError` if the greenlet is killed.
    @inlinable
    public final nonisolated(nonsending) func read(upTo maxBytes: Int = 65536) async throws -> [UInt8] {
        precondition(maxBytes > 0, "read(upTo:) needs a positive maxBytes")
        // Inlined into the caller and run in its isolation, a greenlet's read makes no
        // async call into a `@Hub` function: each costs an executor check on the way in
        // and one on the way out (the runtime reads the task's executor preference under
        // a lock), together a fifth of a small read's user-space instructions. The hub's
        // state is reached through synchronous calls, once `Hub.isCurrent` holds.
        guard Hub.isCurrent else { return try await readOnHub(upTo: maxBytes) }
        while true {
            switch try Hub.onHubThread(Self.readStepOnHub)((self, maxBytes)) {
            case .bytes(let bytes):
                return bytes
            case .park(let waiter):
                // Suspends where the caller runs: the isolated `withUnsafeContinuation`
                // would first check its way to the caller's actor, where it already is.
                let wake = await _unsafeInheritExecutor_withUnsafeContinuation { continuation in
                    Hub.onHubThread(Self.parkOnHub)(ReadParking(waiter: waiter, continuation: continuation))
                }
                Hub.onHubThread(Self.finishParkingOnHub)(waiter)
                if case .cancelled = wake { throw CancellationError() }
            case .waitAsTask(let waiter):
                if case .cancelled = await waiter.parkRegisteredAsTask() { throw CancellationError() }
            }
        }
    }

    /// What ``read(upTo:)`` does next.
    @usableFromInline
    enum ReadStep {
        case bytes([UInt8])
        /// Park this greenlet in place on the waiter, already on the readers' list.
        case park(Waiter<Void>)
        /// Park a task that is not a greenlet on the waiter, already on the readers' list.
        case waitAsTask(Waiter<Void>)
    }

    @usableFromInline
    struct ReadParking {
        @usableFromInline let waiter: Waiter<Void>
        @usableFromInline let continuation: UnsafeContinuation<Wake<Void>, Never>
        @inlinable init(waiter: Waiter<Void>, continuation: UnsafeContinuation<Wake<Void>, Never>) {
            self.waiter = waiter
            self.continuation = continuation
        }
    }

    // The hub-isolated steps of the inlined reads and writes, as constants: calling one
    // through `Hub.onHubThread` allocates nothing.

    @usableFromInline nonisolated static let readStepOnHub: @Sendable @Hub ((ByteStream, Int)) throws(IOError) -> ReadStep = {
        let (stream, maxBytes) = $0
        switch try stream.fillStep(1) {
        case .ready: return .bytes(stream.take(min(maxBytes, stream.bufferedCount)))
        case .ended: return .bytes([])
        case .wait(let waiter): return waiter.prepareToParkInPlace() ? .park(waiter) : .waitAsTask(waiter)
        }
    }

    @usableFromInline nonisolated static let parkOnHub: @Sendable @Hub (ReadParking) -> Void = {
        $0.waiter.parkInPlace($0.continuation)
    }

    @usableFromInline nonisolated static let finishParkingOnHub: @Sendable @Hub (Waiter<Void>) -> Void = {
        $0.finishParkingInPlace()
    }

    /// ``read(upTo:)`` for a caller off the hub thread.
    @usableFromInline
    func readOnHub(upTo maxBytes: Int) async throws -> [UInt8] {
        guard try await fill(1) else { return [] }
        return take(min(maxBytes, bufferedCount))
    }

    /// Waits until at least `count` bytes are buffered; returns `false` if the stream
    /// ends first. Bytes that arrived before an error are returned before it is thrown.
    /// Inlined into the reads: an async call to another hub function costs a hop check.
    @inline(__always)
    func fill(_ count: Int) async throws -> Bool {
        while true {
            switch try fillStep(count) {
            case .ready: return true
            case .ended: return false
            case .wait(let waiter):
                if case .cancelled = await waiter.parkRegisteredAsTask() { throw CancellationError() }
            }
        }
    }

    /// What a read that needs `count` buffered bytes does next.
    enum FillStep {
        case ready
        case ended
        /// Park on this waiter, already on the readers' list: the next bytes, the end of
        /// the stream, an error or ``close()`` wake it.
        case wait(Waiter<Void>)
    }

    private func fillStep(_ count: Int) throws(IOError) -> FillStep {
        if bufferedCount >= count { return .ready }
        if let readFailure { throw readFailure }
        if atEnd { return .ended }
        if isClosed { throw closedError("read from") }
        startReading()
        if let readFailure { throw readFailure }
        // No onAbandon closure (an allocation per read on the hot path): readers that
        // timed out or were killed are pruned here and skipped when woken.
        if !readWaiters.isEmpty { readWaiters.removeAll { !$0.isWaiting } }
        let waiter = makeReadWaiter()
        readWaiters.append(waiter)
        return .wait(waiter)
    }

    /// A waiter for the next read: the spare one if only the stream holds it, since a
    /// waiter's allocation and release are a noticeable part of a small read.
    private func makeReadWaiter() -> Waiter<Void> {
        if spareReadWaiter != nil && isKnownUniquelyReferenced(&spareReadWaiter!) {
            let waiter = spareReadWaiter!
            waiter.rearm()
            return waiter
        }
        let waiter = Waiter<Void>()
        spareReadWaiter = waiter
        return waiter
    }

    /// Removes and returns the first `count` buffered bytes.
    func take(_ count: Int) -> [UInt8] {
        if bufferedStart == 0 && count == buffered.count {
            let all = buffered
            buffered = []
            return all
        }
        let chunk = Array(buffered[bufferedStart..<bufferedStart + count])
        bufferedStart += count
        if bufferedStart == buffered.count {
            buffered = []
            bufferedStart = 0
        }
        return chunk
    }

    /// The buffered bytes, without consuming them.
    var bufferedBytes: ArraySlice<UInt8> { buffered[bufferedStart...] }

    private func startReading() {
        guard !reading, !handleClosed else { return }
        let rc = Self.startReading(stream)
        if rc != 0 {
            readFailure = IOError(code: rc, operation: "read from", peer: peerDescription())
            return
        }
        reading = true
    }

    /// Starts libuv reading into the shared buffer. Nonisolated on purpose: a callback
    /// written inside a `@Hub` method is checked for isolation on every call.
    private nonisolated static func startReading(_ stream: UnsafeMutablePointer<uv_stream_t>) -> Int32 {
        uv_read_start(stream, { handle, _, buffer in
            let owner = Unmanaged<ByteStream>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            buffer!.pointee = owner.readBuffer.uvBuffer
        }, { stream, count, _ in
            let owner = Unmanaged<ByteStream>.fromOpaque(stream!.pointee.data).takeUnretainedValue()
            Hub.onHubThread(ByteStream.didReadOnHub)((owner, count))
        })
    }

    // libuv's callbacks reach the stream through constants: `Hub.assumeIsolated` with a
    // closure that captures the stream cost 8 % of an echo round trip's instructions.
    private nonisolated static let didReadOnHub: @Sendable @Hub ((ByteStream, Int)) -> Void = { $0.0.didRead($0.1) }
    private nonisolated static let didWriteOnHub: @Sendable @Hub ((ByteStream, Int32)) -> Void = { $0.0.didWrite($0.1) }

    private func stopReading() {
        guard reading else { return }
        reading = false
        if !handleClosed { uv_read_stop(stream) }
    }

    private func didRead(_ count: Int) {
        if count > 0 {
            if buffered.isEmpty {
                // The common case, a reader took everything: the bytes become its next
                // array as they are, without growing an empty one.
                buffered = Array(readBuffer.bytes(count))
            } else {
                if bufferedStart > 0 && bufferedStart >= buffered.count / 2 {
                    buffered.removeFirst(bufferedStart)
                    bufferedStart = 0
                }
                buffered.append(contentsOf: readBuffer.bytes(count))
            }
            if bufferedCount >= readAheadLimit && !readWaiters.contains(where: \.isWaiting) { stopReading() }
        } else if count == Int(UV_EOF.rawValue) {
            atEnd = true
            stopReading()
        } else if count < 0 {
            readFailure = IOError(code: Int32(count), operation: "read from", peer: peerDescription())
            stopReading()
        } else {
            return  // EAGAIN: libuv hands back an empty read; nothing to do.
        }
        wakeReaders()
    }

    private func wakeReaders() {
        guard !readWaiters.isEmpty else { return }
        // Waking only queues the readers to resume, so the list cannot change meanwhile
        // and keeps its storage for the next read.
        for waiter in readWaiters { waiter.wake() }
        if readWaiters.count == 1 {
            readWaiters.removeLast()  // one reader, nearly always: cheaper than the general removal
        } else {
            readWaiters.removeAll(keepingCapacity: true)
        }
    }

    // MARK: Writing

    /// Writes all of `bytes`: hands them to the kernel, queueing what it cannot take yet,
    /// and waits while more than ``writeHighWater`` bytes are queued.
    ///
    /// Returning does not mean the peer has the bytes; ``close()`` still delivers what
    /// is queued. Writes from several greenlets are not interleaved within one call.
    ///
    /// - Throws: ``IOError`` if the connection fails (`EPIPE`, `ECONNRESET`), after
    ///   ``shutdownWrite()`` or ``close()``; `CancellationError` if the greenlet is
    ///   killed while it waits (the bytes stay queued).
    @inlinable
    public final nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        // Inlined into the caller and run in its isolation (see ``read(upTo:)``): a write
        // the kernel takes at once makes no async call at all.
        guard Hub.isCurrent else { return try await writeOnHub(bytes) }
        if try Hub.onHubThread(Self.startWriteOnHub)((self, bytes)) { return }
        try await waitBelowHighWater()
    }

    @usableFromInline nonisolated static let startWriteOnHub: @Sendable @Hub ((ByteStream, [UInt8])) throws(IOError) -> Bool = {
        try $0.0.startWrite($0.1)
    }

    /// ``write(_:)`` for a caller off the hub thread.
    @usableFromInline
    func writeOnHub(_ bytes: [UInt8]) async throws {
        if try startWrite(bytes) { return }
        try await waitBelowHighWater()
    }

    @usableFromInline
    func waitBelowHighWater() async throws {
        try await waitForQueue { $0.queuedWriteBytes > $0.writeHighWater }
    }

    /// Hands `bytes` to the kernel, queueing what it cannot take yet; returns `true` unless
    /// the writer must wait for the queue to drain below ``writeHighWater``.
    private func startWrite(_ bytes: [UInt8]) throws(IOError) -> Bool {
        if let writeFailure { throw writeFailure }
        if isClosed { throw closedError("write to") }
        if writeShut { throw IOError(code: Int32(UV_EPIPE.rawValue), operation: "write after shutdownWrite to", peer: peerDescription()) }
        if bytes.isEmpty { return true }
        var offset = 0
        if writesInFlight == 0 {
            let written = Self.tryWrite(stream, bytes)
            if written == Int32(bytes.count) { return true }
            if written < 0 && written != Int32(UV_EAGAIN.rawValue) {
                let error = IOError(code: written, operation: "write to", peer: peerDescription())
                writeFailure = error
                throw error
            }
            offset = max(Int(written), 0)
        }
        try enqueueWrite(bytes, from: offset)
        return queuedWriteBytes <= writeHighWater
    }

    /// Parks the writer while `mustWait` holds, woken as write requests complete.
    private func waitForQueue(while mustWait: (ByteStream) -> Bool) async throws {
        while mustWait(self) {
            if let writeFailure { throw writeFailure }
            if isClosed { throw closedError("write to") }
            let waiter = Waiter<Void>()
            let wake = await park(waiter) { waiter in
                if !mustWait(self) || writeFailure != nil || isClosed {
                    waiter.wake()
                    return
                }
                drainWaiters.append(waiter)
                waiter.onAbandon = { [self] in drainWaiters.removeAll { $0 === waiter } }
            }
            if case .cancelled = wake { throw CancellationError() }
        }
        if let writeFailure { throw writeFailure }
    }

    /// `uv_try_write` of all of `bytes`. Nonisolated for the same reason as
    /// ``startReading(_:)``: a closure written inside a `@Hub` method checks its isolation
    /// through the runtime on every call.
    private nonisolated static func tryWrite(_ stream: UnsafeMutablePointer<uv_stream_t>, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { raw in
            var buffer = uv_buf_init(UnsafeMutableRawPointer(mutating: raw.baseAddress!).assumingMemoryBound(to: CChar.self),
                                     UInt32(raw.count))
            return uv_try_write(stream, &buffer, 1)
        }
    }

    /// Queues `bytes[offset...]` with `uv_write`, copied next to the request so the caller's
    /// array is free at once; the request holds the stream until its callback.
    private func enqueueWrite(_ bytes: [UInt8], from offset: Int) throws(IOError) {
        let count = bytes.count - offset
        let requestSize = (MemoryLayout<uv_write_t>.stride + 15) & ~15
        let memory = UnsafeMutableRawPointer.allocate(byteCount: requestSize + count, alignment: 16)
        let request = memory.bindMemory(to: uv_write_t.self, capacity: 1)
        let payload = memory + requestSize
        bytes.withUnsafeBytes { raw in payload.copyMemory(from: raw.baseAddress! + offset, byteCount: count) }
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = Self.write(request, stream, payload, count)
        if rc != 0 {
            Unmanaged<ByteStream>.fromOpaque(request.pointee.data).release()
            memory.deallocate()
            let error = IOError(code: rc, operation: "write to", peer: peerDescription())
            writeFailure = error
            throw error
        }
        writesInFlight += 1
    }

    /// Starts `uv_write` of `count` bytes at `payload`; the callback frees the request and
    /// the bytes next to it. Nonisolated for the same reason as ``startReading(_:)``.
    private nonisolated static func write(
        _ request: UnsafeMutablePointer<uv_write_t>,
        _ stream: UnsafeMutablePointer<uv_stream_t>,
        _ payload: UnsafeMutableRawPointer,
        _ count: Int
    ) -> Int32 {
        var buffer = uv_buf_init(payload.assumingMemoryBound(to: CChar.self), UInt32(count))
        return uv_write(request, stream, &buffer, 1) { request, status in
            let owner = Unmanaged<ByteStream>.fromOpaque(request!.pointee.data).takeRetainedValue()
            UnsafeMutableRawPointer(request!).deallocate()
            Hub.onHubThread(ByteStream.didWriteOnHub)((owner, status))
        }
    }

    private func didWrite(_ status: Int32) {
        writesInFlight -= 1
        if status < 0 && writeFailure == nil && status != Int32(UV_ECANCELED.rawValue) {
            writeFailure = IOError(code: status, operation: "write to", peer: peerDescription())
        }
        if status < 0 || uv_stream_get_write_queue_size(stream) <= writeHighWater / 2 || writesInFlight == 0 {
            let waiters = drainWaiters
            drainWaiters = []
            for waiter in waiters { waiter.wake() }
        }
        if isClosed && writesInFlight == 0 { finishClose() }
    }

    /// Waits until every queued byte has been handed to the kernel — before a program
    /// exits, since the hub's shutdown closes streams and drops what is still queued.
    ///
    /// - Throws: ``IOError`` if the connection fails; `CancellationError` if killed.
    public func flush() async throws {
        try await waitForQueue { $0.writesInFlight > 0 }
    }

    // MARK: Ending

    /// Ends the writing direction (a TCP FIN) once queued bytes are sent, keeping the
    /// reading direction open — a half-close; the peer reads end of stream.
    ///
    /// - Throws: ``IOError`` if the shutdown fails; `CancellationError` if the greenlet
    ///   is killed before it completes.
    public func shutdownWrite() async throws {
        if isClosed { throw closedError("shut down writing to") }
        if writeShut { return }
        writeShut = true
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        let completion = RequestCompletion<Int32>()
        request.pointee.data = completion.retainedPointer()
        let rc = uv_shutdown(request, stream) { request, status in
            let completion = RequestCompletion<Int32>.take(request!.pointee.data)
            request!.deallocate()
            Hub.assumeIsolated { _ = completion.waiter.wake(with: status) }
        }
        if rc != 0 {
            _ = RequestCompletion<Int32>.take(request.pointee.data)
            request.deallocate()
            throw IOError(code: rc, operation: "shut down writing to", peer: peerDescription())
        }
        switch await park(completion.waiter) {
        case .value(let status) where status < 0 && status != Int32(UV_ENOTCONN.rawValue):
            throw IOError(code: status, operation: "shut down writing to", peer: peerDescription())
        case .value, .timedOut: return
        case .cancelled: throw CancellationError()
        }
    }

    /// Closes the stream: reading stops and waiting readers and writers fail, while bytes
    /// already queued are still delivered (for up to ``closeLinger`` seconds) before the
    /// descriptor is closed — unless the hub shuts down first: ``flush()`` before a
    /// program ends. Closing twice does nothing.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        stopReading()
        wakeReaders()
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter.wake() }
        if writesInFlight == 0 {
            finishClose()
        } else {
            // Queued bytes get a bounded time to drain, so a peer that never reads cannot
            // hold the descriptor open forever.
            lingerTimer = Hub.schedule(after: closeLinger) { [self] in
                lingerTimer = nil
                finishClose()
            }
        }
    }

    /// Takes the connection out of the hub, to hand it to another process — the seeds'
    /// server that accepts on the hub and lets a pool worker serve each connection (wrap
    /// the result in a `PassedDescriptor` and send it in a job). Returns a descriptor of
    /// its own, in blocking mode, that the caller now owns and must close (once the job is
    /// submitted: the job carries its own copy); the stream is closed.
    ///
    /// - Throws: ``IOError`` (`EBADF`) if the stream is closed; (`EBUSY`) if it holds bytes
    ///   read ahead and unread, or writes not yet taken by the kernel, which would be lost;
    ///   the error of `dup` if the descriptor cannot be copied.
    public func detachDescriptor() throws(IOError) -> Int32 {
        guard !isClosed, !handleClosed else { throw closedError("detach") }
        guard bufferedCount == 0, writesInFlight == 0 else {
            throw IOError(code: Int32(UV_EBUSY.rawValue), operation: "detach with bytes in flight", peer: peerDescription())
        }
        var fd: uv_os_fd_t = -1
        let found = UnsafeMutableRawPointer(stream).withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_fileno($0, &fd) }
        guard found == 0 else { throw IOError(code: found, operation: "detach", peer: peerDescription()) }
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw IOError(code: -errno, operation: "dup", peer: peerDescription()) }
        // The copy shares the socket's file status flags: libuv's non-blocking mode would
        // make a worker's plain `read` fail with EAGAIN.
        _ = fcntl(copy, F_SETFL, fcntl(copy, F_GETFL) & ~O_NONBLOCK)
        abort()
        return copy
    }

    /// Closes the descriptor at once, dropping queued bytes (for a stream whose peer is gone).
    package func abort() {
        isClosed = true
        stopReading()
        wakeReaders()
        finishClose()
    }

    private func finishClose() {
        guard !handleClosed else { return }
        handleClosed = true
        if let lingerTimer {
            Hub.cancelTimer(lingerTimer)
            self.lingerTimer = nil
        }
        closeHandle(stream)
    }

    private func closedError(_ verb: String) -> IOError {
        IOError(code: Int32(UV_EBADF.rawValue), operation: "\(verb) after close", peer: peerDescription())
    }
}

/// Writing to a socket whose peer has gone raises SIGPIPE, which kills the process by
/// default; streams want `EPIPE` instead. Ignoring it is what Node does; libuv resets the
/// disposition in children it spawns.
private let brokenPipeIgnored: Bool = {
    var action = sigaction()
    if sigaction(SIGPIPE, nil, &action) == 0, action.__sigaction_handler.sa_handler == nil {
        signal(SIGPIPE, SIG_IGN)
    }
    return true
}()

private func ignoreBrokenPipe() {
    _ = brokenPipeIgnored
}
