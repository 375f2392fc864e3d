import CLibuv

extension ByteStream {
    /// Runs one libuv connect request on this (fresh) stream and waits for it: `start`
    /// issues it with the request and callback given. On failure, timeout or kill the
    /// stream is closed (which also makes libuv finish the request).
    ///
    /// - Throws: ``IOError`` `connect` to `peer` (`ETIMEDOUT` after `timeout`);
    ///   `CancellationError` if the greenlet is killed.
    func awaitConnect(
        to peer: String,
        timeout: Double?,
        start: (UnsafeMutablePointer<uv_connect_t>, uv_connect_cb) -> Int32
    ) async throws {
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        let completion = RequestCompletion<Int32>()
        request.pointee.data = completion.retainedPointer()
        let rc = start(request) { request, status in
            let completion = RequestCompletion<Int32>.take(request!.pointee.data)
            request!.deallocate()
            Hub.assumeIsolated { _ = completion.waiter.wake(with: status) }
        }
        if rc != 0 {
            _ = RequestCompletion<Int32>.take(request.pointee.data)
            request.deallocate()
            abort()
            throw IOError(code: rc, operation: "connect", peer: peer)
        }
        switch await park(completion.waiter, timeout: timeout) {
        case .value(0):
            return
        case .value(let status):
            abort()
            throw IOError(code: status, operation: "connect", peer: peer)
        case .timedOut:
            abort()
            throw IOError(code: Int32(UV_ETIMEDOUT.rawValue), operation: "connect", peer: peer)
        case .cancelled:
            abort()
            throw CancellationError()
        }
    }
}
