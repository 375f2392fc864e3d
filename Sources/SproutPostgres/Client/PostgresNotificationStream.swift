/// A connection's notifications as an async sequence (``PostgresConnection/notificationStream()``):
/// it waits for each one and ends by throwing when the connection closes or breaks.
public struct PostgresNotificationStream: AsyncSequence, Sendable {
    /// What it yields.
    public typealias Element = PostgresNotification
    let connection: PostgresConnection

    /// Its iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: PostgresConnection

        /// The next notification.
        ///
        /// - Throws: ``PostgresError/closed`` or ``PostgresError/connectionLost(_:)``;
        ///   `CancellationError` if the greenlet is killed.
        public mutating func next() async throws -> PostgresNotification? {
            try await connection.nextNotification(timeout: nil)
        }
    }

    /// An iterator over the notifications.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(connection: connection) }
}
