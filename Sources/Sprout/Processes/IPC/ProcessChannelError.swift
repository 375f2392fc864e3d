import Glibc

/// Why a ``ProcessPipe`` or ``ProcessQueue`` operation failed.
public enum ProcessChannelError: Error, CustomStringConvertible, Sendable {
    /// Every process holding the other end closed it.
    case closed
    /// The value's encoding is larger than one message may be.
    case tooLarge(bytes: Int)
    /// A system call failed.
    case system(operation: String, code: Int32)
    /// The value could not be encoded or decoded.
    case coding(String)

    public var description: String {
        switch self {
        case .closed: "the other end of the process channel is closed"
        case .tooLarge(let bytes): "a value of \(bytes) bytes is larger than one message may be (\(MessageSocket.maxMessage))"
        case .system(let operation, let code): "\(operation): \(String(cString: strerror(code)))"
        case .coding(let detail): "could not encode or decode a value: \(detail)"
        }
    }
}
