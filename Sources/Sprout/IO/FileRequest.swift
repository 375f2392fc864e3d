import CLibuv

import Glibc

/// Runs one `uv_fs_*` request on libuv's thread pool and waits for it: `start` issues it
/// with the request and callback given. If the greenlet stops waiting (killed), a request
/// not yet started is cancelled, and a file that a late `open` returns is closed.
///
/// - Returns: the request's non-negative result (bytes, a descriptor).
/// - Throws: ``IOError`` named `operation` on `path`; `CancellationError` if the greenlet is killed.
@Hub
func runFileRequest(
    _ operation: String,
    _ path: String,
    keeping buffer: FileBuffer? = nil,
    _ start: (UnsafeMutablePointer<uv_fs_t>, uv_fs_cb) -> Int32
) async throws -> Int {
    let request = UnsafeMutablePointer<uv_fs_t>.allocate(capacity: 1)
    let completion = RequestCompletion<Int>()
    completion.keepAlive = buffer
    request.pointee.data = completion.retainedPointer()
    let rc = start(request) { request in
        let completion = RequestCompletion<Int>.take(request!.pointee.data)
        let result = request!.pointee.result
        let opened = request!.pointee.fs_type == UV_FS_OPEN
        uv_fs_req_cleanup(request)
        request!.deallocate()
        Hub.assumeIsolated {
            if !completion.waiter.wake(with: result), opened, result >= 0 {
                // Nobody will ever own this descriptor.
                close(Int32(result))
            }
        }
    }
    if rc != 0 {
        _ = RequestCompletion<Int>.take(request.pointee.data)
        uv_fs_req_cleanup(request)
        request.deallocate()
        throw IOError(code: rc, operation: operation, peer: path)
    }
    let wake = await park(completion.waiter) { waiter in
        // Runs before the callback could free the request.
        waiter.onAbandon = {
            request.withMemoryRebound(to: uv_req_t.self, capacity: 1) { _ = uv_cancel($0) }
        }
    }
    switch wake {
    case .value(let result) where result < 0:
        throw IOError(code: Int32(result), operation: operation, peer: path)
    case .value(let result):
        return result
    case .timedOut, .cancelled:
        throw CancellationError()
    }
}
