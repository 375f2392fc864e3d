import FoundationEssentials

/// The types the streaming JSON coder (``StreamingJSONEncoder``, ``StreamingJSONDecoder``)
/// sorts values by before it casts: a job is mostly structs around a few plain values, and
/// each failed cast of a struct to a concrete type is a runtime call, so one set lookup
/// decides which of them to try at all.
enum JSONScalarTypes {
    /// Numbers, strings and booleans, which the streaming coder writes and reads itself.
    static let plain: Set<ObjectIdentifier> = [
        ObjectIdentifier(String.self), ObjectIdentifier(Int.self), ObjectIdentifier(Bool.self),
        ObjectIdentifier(Double.self), ObjectIdentifier(Float.self),
        ObjectIdentifier(Int8.self), ObjectIdentifier(Int16.self), ObjectIdentifier(Int32.self),
        ObjectIdentifier(Int64.self), ObjectIdentifier(UInt.self), ObjectIdentifier(UInt8.self),
        ObjectIdentifier(UInt16.self), ObjectIdentifier(UInt32.self), ObjectIdentifier(UInt64.self),
    ]

    /// Types `JSONEncoder` gives a form of their own (base64, dates, URL strings), which the
    /// streaming coder leaves to Foundation.
    static let foundation: Set<ObjectIdentifier> = [
        ObjectIdentifier(Data.self), ObjectIdentifier(Date.self), ObjectIdentifier(URL.self),
        ObjectIdentifier(Decimal.self),
    ]
}
