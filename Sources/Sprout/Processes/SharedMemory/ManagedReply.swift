/// A manager-served object's reply, as far as ``ManagedObject``'s atomic update needs it:
/// the version a read saw, and whether a conditional replace was applied.
protocol ManagedReply: Codable, Sendable {
    /// The state's version when it was read (set on replies to a read).
    var version: UInt64? { get }
    /// Whether a replace found the version it expected and was applied.
    var applied: Bool? { get }
}
