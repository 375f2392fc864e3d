/// PostgreSQL's text form of a one-dimensional array (`{"a","b"}`), so a batch travels as
/// one parameter and `unnest($1::text[])` spreads it back into rows.
enum PostgresArrayLiteral {
    /// `values` quoted: backslashes and double quotes escaped, `nil` as `NULL`.
    static func text(_ values: [String?]) -> PostgresValue {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            guard let value else {
                literal += "NULL"
                continue
            }
            literal += "\""
            for character in value {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.append(character)
            }
            literal += "\""
        }
        return .text(literal + "}")
    }

    /// `values` as integers.
    static func integers(_ values: [Int]) -> PostgresValue {
        .text("{" + values.map(String.init).joined(separator: ",") + "}")
    }
}
