import CLibuv

import Glibc

/// An IPv4 or IPv6 address and port, as a socket reports it: `127.0.0.1:8080`, `[::1]:8080`.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The numeric host, e.g. `127.0.0.1` or `::1`.
    public let host: String
    /// The port number.
    public let port: Int
    /// True for an IPv6 address.
    public let isIPv6: Bool

    /// An address from a numeric host (`127.0.0.1`, `::1`) and a port; `nil` when `host`
    /// is not a numeric IPv4 or IPv6 address (use ``getAddressInfo(host:port:timeout:)-(_,_,Double?)`` for names).
    public init?(host: String, port: Int) {
        guard (0...65535).contains(port) else { return nil }
        var storage = sockaddr_storage()
        let ok = withUnsafeMutableBytes(of: &storage) { raw -> Bool in
            if uv_ip4_addr(host, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)) == 0 {
                return true
            }
            return uv_ip6_addr(host, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)) == 0
        }
        guard ok else { return nil }
        self.init(storage: storage)
    }

    /// Reads a `sockaddr_in` / `sockaddr_in6`; `nil` for other families.
    package init?(_ address: UnsafePointer<sockaddr>) {
        var storage = sockaddr_storage()
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.baseAddress!.copyMemory(from: address, byteCount: MemoryLayout<sockaddr_in>.size)
            }
        case AF_INET6:
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.baseAddress!.copyMemory(from: address, byteCount: MemoryLayout<sockaddr_in6>.size)
            }
        default:
            return nil
        }
        self.init(storage: storage)
    }

    private init(storage: sockaddr_storage) {
        var storage = storage
        var name = [CChar](repeating: 0, count: 64)
        let isIPv6 = Int32(storage.ss_family) == AF_INET6
        self.isIPv6 = isIPv6
        port = withUnsafeBytes(of: &storage) { raw in
            if isIPv6 {
                Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            } else {
                Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            }
        }
        withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                _ = uv_ip_name(address, &name, name.count)
            }
        }
        host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `host:port`, with IPv6 hosts in brackets.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Calls `body` with this address as a `sockaddr` for libuv.
    package func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>) -> T) -> T {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            if isIPv6 {
                _ = uv_ip6_addr(host, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self))
            } else {
                _ = uv_ip4_addr(host, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self))
            }
        }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
        }
    }

    /// Reads an address with a `getsockname`-style libuv call; `nil` when it fails.
    package static func read(
        _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<Int32>) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                call(address, &length) == 0 ? SocketAddress(address) : nil
            }
        }
    }
}
