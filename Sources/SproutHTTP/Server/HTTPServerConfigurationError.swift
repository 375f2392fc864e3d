/// An ``HTTPServer/Configuration`` setting out of range.
public struct HTTPServerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting's name, such as `headTimeout`.
    public let setting: String
    /// The value given.
    public let value: String
    /// What the setting accepts.
    public let expected: String

    public var description: String { "HTTPServer.Configuration.\(setting) is \(value); expected \(expected)" }
}
