/// Something wrong with a worker channel's bytes.
package enum ChannelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A frame's header or payload does not follow the wire format.
    case corruptFrame(String)
    /// The channel ended in the middle of a frame.
    case truncatedFrame(have: Int, need: Int)

    package var description: String {
        switch self {
        case .corruptFrame(let detail): "corrupt frame on a worker channel: \(detail)"
        case .truncatedFrame(let have, let need): "worker channel ended inside a frame (\(have) of \(need) bytes)"
        }
    }
}
