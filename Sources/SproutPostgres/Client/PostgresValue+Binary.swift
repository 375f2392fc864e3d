import FoundationEssentials

/// Type OIDs from PostgreSQL's `pg_type.dat`, stable across server versions.
enum PostgresTypeOID {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let name: UInt32 = 19
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let oid: UInt32 = 26
    static let json: UInt32 = 114
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let numeric: UInt32 = 1700
    static let uuid: UInt32 = 2950
    static let jsonb: UInt32 = 3802
}

extension PostgresValue {
    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 UTC.
    private static let postgresEpoch: Double = 946_684_800

    /// Decodes one non-NULL field of PostgreSQL's binary format.
    ///
    /// - Throws: ``PostgresError/malformedValue(oid:_:)`` if the bytes are not what
    ///   `oid`'s binary format holds.
    static func decode(oid: UInt32, _ bytes: UnsafeRawBufferPointer) throws(PostgresError) -> PostgresValue {
        func fixed(_ count: Int) throws(PostgresError) {
            guard bytes.count == count else {
                throw .malformedValue(oid: oid, "expected \(count) bytes, got \(bytes.count)")
            }
        }
        func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int = 0) -> T {
            var value: T = 0
            withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size])) }
            return T(bigEndian: value)
        }
        let text = { String(decoding: bytes, as: UTF8.self) }
        switch oid {
        case PostgresTypeOID.bool:
            try fixed(1)
            return .bool(bytes[0] != 0)
        case PostgresTypeOID.int2:
            try fixed(2)
            return .int(Int(bigEndian(Int16.self)))
        case PostgresTypeOID.int4:
            try fixed(4)
            return .int(Int(bigEndian(Int32.self)))
        case PostgresTypeOID.oid:
            try fixed(4)
            return .int(Int(bigEndian(UInt32.self)))
        case PostgresTypeOID.int8:
            try fixed(8)
            return .int(Int(bigEndian(Int64.self)))
        case PostgresTypeOID.float4:
            try fixed(4)
            return .double(Double(Float(bitPattern: bigEndian(UInt32.self))))
        case PostgresTypeOID.float8:
            try fixed(8)
            return .double(Double(bitPattern: bigEndian(UInt64.self)))
        case PostgresTypeOID.text, PostgresTypeOID.varchar, PostgresTypeOID.bpchar, PostgresTypeOID.name:
            return .text(text())
        case PostgresTypeOID.bytea:
            return .bytes(Array(bytes))
        case PostgresTypeOID.json:
            return .json(text())
        case PostgresTypeOID.jsonb:
            guard bytes.first == 1 else { throw .malformedValue(oid: oid, "unknown jsonb version") }
            return .json(String(decoding: bytes.dropFirst(), as: UTF8.self))
        case PostgresTypeOID.timestamp, PostgresTypeOID.timestamptz:
            try fixed(8)
            let microseconds = bigEndian(Int64.self)
            if microseconds == .max { return .timestamp(.distantFuture) }
            if microseconds == .min { return .timestamp(.distantPast) }
            return .timestamp(Date(timeIntervalSince1970: postgresEpoch + Double(microseconds) / 1_000_000))
        case PostgresTypeOID.uuid:
            try fixed(16)
            let b = Array(bytes)
            return .uuid(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                                     b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])))
        case PostgresTypeOID.numeric:
            guard bytes.count >= 8 else { throw .malformedValue(oid: oid, "numeric header too short") }
            let count = Int(bigEndian(Int16.self))
            guard count >= 0, bytes.count == 8 + 2 * count else {
                throw .malformedValue(oid: oid, "numeric digit count does not match its length")
            }
            let digits = (0..<count).map { Int(bigEndian(Int16.self, at: 8 + 2 * $0)) }
            return .numeric(numericText(digits: digits, weight: Int(bigEndian(Int16.self, at: 2)),
                                        sign: bigEndian(UInt16.self, at: 4), scale: Int(bigEndian(UInt16.self, at: 6))))
        default:
            return .other(oid: oid, bytes: Array(bytes))
        }
    }

    /// The decimal text of a binary `numeric`: base-10000 `digits`, the first one worth
    /// 10000^`weight`, `scale` digits after the point.
    private static func numericText(digits: [Int], weight: Int, sign: UInt16, scale: Int) -> String {
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        func digit(_ index: Int) -> Int { index >= 0 && index < digits.count ? digits[index] : 0 }
        func padded(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: 4 - text.count) + text
        }
        var result = sign == 0x4000 ? "-" : ""
        if weight < 0 {
            result += "0"
        } else {
            result += String(digit(0))
            for index in stride(from: 1, through: weight, by: 1) { result += padded(digit(index)) }
        }
        if scale > 0 {
            var fraction = ""
            var index = weight + 1
            while fraction.count < scale {
                fraction += padded(digit(index))
                index += 1
            }
            result += "." + fraction.prefix(scale)
        }
        return result
    }

    /// How this value travels as a parameter: text for the server to parse, except bytes.
    var parameter: (bytes: [UInt8]?, binary: Bool) {
        switch self {
        case .null: return (nil, false)
        case .bool(let value): return (Array((value ? "t" : "f").utf8), false)
        case .int(let value): return (Array(String(value).utf8), false)
        case .double(let value):
            let text = value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "Infinity" : "-Infinity") : "\(value)"
            return (Array(text.utf8), false)
        case .numeric(let text), .text(let text), .json(let text): return (Array(text.utf8), false)
        case .bytes(let bytes): return (bytes, true)
        case .timestamp(let date): return (Array(Self.isoText(date).utf8), false)
        case .uuid(let uuid): return (Array(uuid.uuidString.utf8), false)
        case .other(_, let bytes): return (bytes, true)
        }
    }

    /// `date` as `YYYY-MM-DD HH:MM:SS.ffffff+00`, microseconds exact, read the same
    /// whatever the session's TimeZone and DateStyle.
    static func isoText(_ date: Date) -> String {
        if date == .distantFuture { return "infinity" }
        if date == .distantPast { return "-infinity" }
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, dayMicroseconds) = microseconds.quotientAndRemainder(dividingBy: 86_400_000_000)
        let (day, inDay) = dayMicroseconds < 0 ? (days - 1, dayMicroseconds + 86_400_000_000) : (days, dayMicroseconds)
        // Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
        let shifted = day + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let seconds = inDay / 1_000_000
        let fraction = String(inDay % 1_000_000)
        let yearText = year > 0 ? String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year) : "\(1 - year)"
        return "\(yearText)-\(two(month))-\(two(dayOfMonth)) \(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))."
            + String(repeating: "0", count: 6 - fraction.count) + fraction + "+00" + (year > 0 ? "" : " BC")
    }
}
