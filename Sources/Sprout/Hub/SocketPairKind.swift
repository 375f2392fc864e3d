import CLibuv

import Glibc

/// Unix socket types with close-on-exec, for layers that may not import CLibuv. In a
/// whole-module (release) build the socket-type constants are visible only to files that
/// import CLibuv — its headers own them there — so Processes/ takes them from here.
package enum SocketPairKind {
    /// `SOCK_STREAM | SOCK_CLOEXEC`.
    package static let stream = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    /// `SOCK_SEQPACKET | SOCK_CLOEXEC`.
    package static let seqpacket = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    /// `SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK`.
    package static let seqpacketNonBlocking = seqpacket | Int32(SOCK_NONBLOCK.rawValue)
}
