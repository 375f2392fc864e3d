/// An HTTP request method, such as `GET` or `POST`; any token is allowed.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The method as sent on the wire.
    public let rawValue: String

    /// A method from its wire form.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A method from a literal such as `"PATCH"`.
    public init(stringLiteral value: String) { rawValue = value }

    public var description: String { rawValue }

    /// `GET`.
    public static let get: HTTPMethod = "GET"
    /// `HEAD`.
    public static let head: HTTPMethod = "HEAD"
    /// `POST`.
    public static let post: HTTPMethod = "POST"
    /// `PUT`.
    public static let put: HTTPMethod = "PUT"
    /// `DELETE`.
    public static let delete: HTTPMethod = "DELETE"
    /// `PATCH`.
    public static let patch: HTTPMethod = "PATCH"
    /// `OPTIONS`.
    public static let options: HTTPMethod = "OPTIONS"
}
