/// One row of a result: its values in column order, and the column names to look them up.
public struct PostgresRow: Sendable, Hashable {
    /// The result's column names, shared by its rows.
    public let columns: [String]
    /// The values, in column order.
    public let values: [PostgresValue]

    /// The value in column `index`.
    public subscript(index: Int) -> PostgresValue { values[index] }

    /// The value of the first column named `name`, or ``PostgresValue/null`` if none is.
    public subscript(name: String) -> PostgresValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }
}

/// What one statement returned: its rows, and how many rows it changed.
public struct PostgresResult: Sendable, Hashable {
    /// The column names, in order (empty for a statement that returns no rows).
    public let columns: [String]
    /// The rows.
    public let rows: [PostgresRow]
    /// Rows inserted, updated or deleted (`PQcmdTuples`); for a `SELECT`, rows returned.
    public let affectedRows: Int
    /// The command tag, e.g. `"INSERT 0 1"`.
    public let command: String
}
