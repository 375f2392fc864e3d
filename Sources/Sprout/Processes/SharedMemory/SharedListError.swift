/// Why a ``SharedList`` call failed.
public enum SharedListError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The index is outside the list (Python's `IndexError`).
    case indexOutOfRange(Int, count: Int)

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .indexOutOfRange(let index, let count): "index \(index) is out of range for a shared list of \(count)"
        }
    }
}
