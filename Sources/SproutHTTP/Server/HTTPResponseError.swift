/// Why a handler's ``HTTPServerResponse`` cannot be sent: it would let the handler's input
/// split the response (a header echoed from a request, with a CR LF inside) or is not
/// HTTP. The server reports it, answers 500 instead and writes nothing of the response.
public enum HTTPResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A status code outside `100...999`.
    case invalidStatus(Int)
    /// A header name that is empty or holds a byte outside RFC 9110's token characters
    /// (a space, a colon, CR, LF, NUL...).
    case invalidHeaderName(String)
    /// A header value holding CR, LF, NUL or another control byte other than HTAB.
    case invalidHeaderValue(name: String)

    public var description: String {
        switch self {
        case .invalidStatus(let status): "status \(status) is not a three-digit code"
        case .invalidHeaderName(let name): "header name \(name.debugDescription) is not a token"
        case .invalidHeaderValue(let name): "the value of header \(name.debugDescription) holds a control byte (CR, LF, NUL...)"
        }
    }
}
