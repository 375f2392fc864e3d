import CLibuv

import Glibc

/// Resolves `host` to its IPv4 and IPv6 addresses on libuv's resolver threads, without
/// blocking the hub — Python's `socket.getaddrinfo`. A numeric host (`127.0.0.1`, `::1`)
/// comes back as is, without a lookup.
///
/// - Parameters:
///   - host: a name or a numeric IPv4 or IPv6 address.
///   - port: the port each returned address carries.
///   - timeout: seconds to wait for the resolver (`nil`: its own limits).
/// - Returns: the addresses in the resolver's order of preference, each with `port`.
/// - Throws: ``IOError`` naming the resolver's error (`resolve example.invalid:
///   EAI_NONAME`), or `ETIMEDOUT` after `timeout`; `CancellationError` if the greenlet
///   is killed (the lookup is cancelled if it has not started).
@Hub
public func getAddressInfo(host: String, port: Int, timeout: Double? = nil) async throws -> [SocketAddress] {
    if let numeric = SocketAddress(host: host, port: port) { return [numeric] }
    guard (0...65535).contains(port) else {
        throw IOError(code: Int32(UV_EINVAL.rawValue), operation: "resolve (port \(port))", peer: host)
    }
    let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
    let completion = RequestCompletion<Result<[SocketAddress], IOError>>()
    request.pointee.data = completion.retainedPointer()
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_ADDRCONFIG
    let rc = uv_getaddrinfo(Hub.loop, request, { request, status, list in
        let completion = RequestCompletion<Result<[SocketAddress], IOError>>.take(request!.pointee.data)
        request!.deallocate()
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr.flatMap({ SocketAddress(UnsafePointer($0)) }), !addresses.contains(address) {
                addresses.append(address)
            }
            entry = current.pointee.ai_next
        }
        uv_freeaddrinfo(list)
        let result: Result<[SocketAddress], IOError> = status == 0
            ? .success(addresses) : .failure(IOError(code: status, operation: "resolve"))
        Hub.assumeIsolated { _ = completion.waiter.wake(with: result) }
    }, host, String(port), &hints)
    if rc != 0 {
        _ = RequestCompletion<Result<[SocketAddress], IOError>>.take(request.pointee.data)
        request.deallocate()
        throw IOError(code: rc, operation: "resolve", peer: host)
    }
    let wake = await park(completion.waiter, timeout: timeout) { waiter in
        // Runs before the callback could free the request: a waiter is abandoned only
        // while the lookup is still outstanding.
        waiter.onAbandon = {
            request.withMemoryRebound(to: uv_req_t.self, capacity: 1) { _ = uv_cancel($0) }
        }
    }
    switch wake {
    case .value(.success(let addresses)):
        if addresses.isEmpty { throw IOError(code: Int32(UV_EAI_NODATA.rawValue), operation: "resolve", peer: host) }
        return addresses
    case .value(.failure(let error)):
        throw IOError(code: error.code, operation: "resolve", peer: host)
    case .timedOut:
        throw IOError(code: Int32(UV_ETIMEDOUT.rawValue), operation: "resolve", peer: host)
    case .cancelled:
        throw CancellationError()
    }
}
