/// One SQL statement with its `$1`, `$2`… parameters, for ``PostgresConnection/pipeline(_:timeout:)``.
public struct PostgresStatement: Sendable, Hashable {
    /// The SQL text.
    public var sql: String
    /// The values bound to `$1`, `$2`…
    public var parameters: [PostgresValue]

    /// A statement and its parameters.
    public init(_ sql: String, _ parameters: [PostgresValue] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}
