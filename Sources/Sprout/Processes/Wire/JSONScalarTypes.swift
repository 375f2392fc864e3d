import FoundationEssentials

/// The types the streaming JSON coder (``StreamingJSONEncoder``, ``StreamingJSONDecoder``)
/// sorts values by before it casts: a job is mostly structs around a few plain values, and
/// each failed cast of a struct to a concrete type is a runtime call, so one table lookup
/// decides which of them to try at all.
enum JSONScalarTypes {
    /// How the streaming coder treats a type.
    enum Kind {
        /// Numbers, strings and booleans, which the streaming coder writes and reads itself.
        case plain
        /// Types `JSONEncoder` gives a form of their own (base64, dates, URL strings), which
        /// the streaming coder leaves to Foundation.
        case foundation
    }

    /// The types of either kind; any other is a container (a struct, an array, ...). One
    /// table, so a struct — most jobs — costs one lookup, not one per kind.
    static let kinds: [ObjectIdentifier: Kind] = [
        ObjectIdentifier(String.self): .plain, ObjectIdentifier(Int.self): .plain, ObjectIdentifier(Bool.self): .plain,
        ObjectIdentifier(Double.self): .plain, ObjectIdentifier(Float.self): .plain,
        ObjectIdentifier(Int8.self): .plain, ObjectIdentifier(Int16.self): .plain, ObjectIdentifier(Int32.self): .plain,
        ObjectIdentifier(Int64.self): .plain, ObjectIdentifier(UInt.self): .plain, ObjectIdentifier(UInt8.self): .plain,
        ObjectIdentifier(UInt16.self): .plain, ObjectIdentifier(UInt32.self): .plain, ObjectIdentifier(UInt64.self): .plain,
        ObjectIdentifier(Data.self): .foundation, ObjectIdentifier(Date.self): .foundation,
        ObjectIdentifier(URL.self): .foundation, ObjectIdentifier(Decimal.self): .foundation,
    ]
}
