import FoundationEssentials

/// One value of a row or one query parameter, typed the way PostgreSQL typed it.
///
/// Results arrive in PostgreSQL's binary format and are decoded by column type: `bool`;
/// `int2`, `int4`, `int8` as ``int(_:)``; `float4`, `float8` as ``double(_:)``; `numeric` as
/// its exact decimal text; `text`, `varchar`, `char`, `name` as ``text(_:)``; `bytea`;
/// `timestamptz` and `timestamp` as a `Date`; `uuid`; `json` and `jsonb` as their text;
/// SQL `NULL` as ``null``; any other type as its raw bytes with its type OID.
///
/// As a parameter, every case but ``bytes(_:)`` is sent as text for the server to parse
/// into whatever type the statement needs (write `$1::int` where it cannot infer one).
public enum PostgresValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// `bool`.
    case bool(Bool)
    /// `int2`, `int4` or `int8`.
    case int(Int)
    /// `float4` or `float8`.
    case double(Double)
    /// `numeric`, as its exact decimal text (`"12.50"`, `"NaN"`).
    case numeric(String)
    /// `text`, `varchar`, `char`, `name`.
    case text(String)
    /// `bytea`.
    case bytes([UInt8])
    /// `timestamptz` or `timestamp` (read as UTC); ±infinity as `Date.distantFuture`/`distantPast`.
    case timestamp(Date)
    /// `uuid`.
    case uuid(UUID)
    /// `json` or `jsonb`, as JSON text.
    case json(String)
    /// A type this enum does not decode: its OID and the server's binary representation.
    case other(oid: UInt32, bytes: [UInt8])

    /// True for ``null``.
    public var isNull: Bool { self == .null }

    /// The value of an integer column, or `nil` if it is not one.
    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The value of a `bool` column, or `nil` if it is not one.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value of a float column (or an integer one, converted), or `nil`.
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// The text of a text, numeric or JSON column, or `nil` for other types.
    public var string: String? {
        switch self {
        case .text(let value), .numeric(let value), .json(let value): return value
        default: return nil
        }
    }

    /// The bytes of a `bytea` column, or `nil` if it is not one.
    public var bytes: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// The instant of a timestamp column, or `nil` if it is not one.
    public var date: Date? {
        if case .timestamp(let value) = self { return value }
        return nil
    }

    /// The value of a `uuid` column, or `nil` if it is not one.
    public var uuid: UUID? {
        if case .uuid(let value) = self { return value }
        return nil
    }
}

extension PostgresValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral {
    /// `nil` is SQL `NULL`.
    public init(nilLiteral: ()) { self = .null }
    /// A boolean literal is a `bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal is an integer.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// A float literal is a double.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string literal is text.
    public init(stringLiteral value: String) { self = .text(value) }
}
