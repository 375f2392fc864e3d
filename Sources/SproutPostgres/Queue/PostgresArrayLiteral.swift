/// PostgreSQL's text form of a one-dimensional array (`{"a","b"}`), so a batch travels as
/// one parameter and `unnest($1::text[])` spreads it back into rows.
enum PostgresArrayLiteral {
    /// `values` quoted: backslashes and double quotes escaped, `nil` as `NULL`.
    static func text(_ values: [String?]) -> PostgresValue {
        // Built as UTF-8 bytes: appending Characters to a String cost a worker host 10 % of
        // its CPU time on tiny jobs. The two escaped bytes are ASCII, never part of a longer
        // UTF-8 sequence.
        var literal: [UInt8] = []
        literal.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        literal.append(UInt8(ascii: "{"))
        for (index, value) in values.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            guard let value else {
                literal.append(contentsOf: "NULL".utf8)
                continue
            }
            literal.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return .text(String(decoding: literal, as: UTF8.self))
    }

    /// `values` as integers.
    static func integers(_ values: [Int]) -> PostgresValue {
        .text("{" + values.map(String.init).joined(separator: ",") + "}")
    }
}
