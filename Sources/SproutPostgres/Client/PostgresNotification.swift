/// A `NOTIFY` that arrived on a connection which `LISTEN`s on its channel.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public let channel: String
    /// Its payload (empty if none was given).
    public let payload: String
    /// The backend process id of the session that sent it.
    public let senderPID: Int32
}
