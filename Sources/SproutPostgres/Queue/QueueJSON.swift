import FoundationEssentials
import Sprout

/// How the queue writes jobs, outputs and recorded errors into its text columns and reads
/// them back: JSON, through the process pool's streaming coder (``Sprout/JSONProcessCoder``),
/// made once. Foundation's `JSONDecoder`, made per job, took 17 % of a worker host's CPU time
/// on tiny jobs. Byte arrays, which that coder passes through raw, go through Foundation's
/// coders: the table holds JSON text.
enum QueueJSON {
    private static let coder = JSONProcessCoder()

    /// `value` as JSON text.
    ///
    /// - Throws: `EncodingError` if `value` cannot be encoded.
    static func encode<Value: Encodable>(_ value: Value) throws -> String {
        if Value.self == [UInt8].self { return String(decoding: try JSONEncoder().encode(value), as: UTF8.self) }
        return String(decoding: try coder.encode(value), as: UTF8.self)
    }

    /// `bytes` as ``encode(_:)`` writes a `[UInt8]`: Foundation's JSON, an array of numbers
    /// (`[0,17,255]`), written here byte by byte: Foundation's encoder took 1.2 s for 2 MB (accept's
    /// `accept-queue bigtime`, a debug build) on the hub of a worker host, whose heartbeats then waited.
    static func arrayText(_ bytes: ArraySlice<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(2 + 4 * bytes.count)
        text.append(UInt8(ascii: "["))
        for byte in bytes {
            DecimalText.append(Int(byte), to: &text)
            text.append(UInt8(ascii: ","))
        }
        if bytes.isEmpty {
            text.append(UInt8(ascii: "]"))
        } else {
            text[text.count - 1] = UInt8(ascii: "]")
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The `Value` that JSON `text` holds.
    ///
    /// - Throws: `DecodingError` if `text` is not a JSON `Value`.
    static func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        if type == [UInt8].self { return try JSONDecoder().decode(type, from: Data(text.utf8)) }
        return try coder.decode(type, from: Array(text.utf8)[...])
    }
}
