/// True for the bytes RFC 9110 allows in a token (method, field name, transfer coding);
/// a switch the compiler turns into a table lookup.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
         UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default:
        false
    }
}

/// True for the bytes RFC 9110 allows in a field value: visible ASCII, space, HTAB and
/// obs-text; never CR, LF, NUL or another control byte.
@inline(__always)
func isFieldValueByte(_ byte: UInt8) -> Bool {
    byte >= 32 ? byte != 127 : byte == 9
}

/// True when `bytes` spell `lowercase` in any case (ASCII); compares bytes, builds no string.
func equalsIgnoringCase(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ lowercase: StaticString) -> Bool {
    let wanted = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
    guard bytes.count == wanted.count else { return false }
    var index = bytes.startIndex
    for byte in wanted {
        if asciiLower(bytes[index]) != byte { return false }
        index += 1
    }
    return true
}
