import FoundationEssentials

/// Turns jobs, outputs and errors into bytes for a worker channel and back. The parent and
/// its workers must use the same coder; ``JSONProcessCoder`` is the default.
public protocol ProcessCoder: Sendable {
    /// Encodes `value`.
    ///
    /// - Throws: the encoder's error if `value` cannot be encoded.
    func encode<Value: Encodable>(_ value: Value) throws -> [UInt8]

    /// Decodes a `Value` from `bytes`.
    ///
    /// - Throws: the decoder's error if the bytes do not hold a `Value`.
    func decode<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>) throws -> Value

    /// Encodes `values` one after another, appending their bytes to `buffer`, and returns
    /// where each one's bytes lie there. A map's chunk of jobs is encoded with one call, so
    /// a coder pays its per-call set-up once per chunk; the default calls ``encode(_:)``
    /// for each.
    ///
    /// - Throws: the error of the first value that cannot be encoded (`buffer` may then hold
    ///   part of the chunk; the caller drops it).
    func encode<Value: Encodable>(each values: [Value], into buffer: inout [UInt8]) throws -> [Range<Int>]
}

extension ProcessCoder {
    /// Encodes each of `values` with ``encode(_:)``, appending the bytes to `buffer`.
    ///
    /// - Throws: the error of the first value that cannot be encoded.
    public func encode<Value: Encodable>(each values: [Value], into buffer: inout [UInt8]) throws -> [Range<Int>] {
        try encodeOneByOne(values, into: &buffer)
    }

    /// The default's loop, also where a coder's own chunk encoding falls back.
    func encodeOneByOne<Value: Encodable>(_ values: [Value], into buffer: inout [UInt8]) throws -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(values.count)
        for value in values {
            let bytes = try encode(value)
            ranges.append(buffer.count..<(buffer.count + bytes.count))
            buffer.append(contentsOf: bytes)
        }
        return ranges
    }
}

/// The default coder: JSON, readable when a frame must be debugged.
///
/// A value of type `[UInt8]` (a job's output, say) travels as its raw bytes rather than as a
/// JSON array of numbers, so bulk binary results cost no encoding.
public struct JSONProcessCoder: ProcessCoder {
    // Made once: creating a JSONEncoder per job costs more than encoding a small one.
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()
    // What the streaming decoder keeps from one job to the next of a map (one decode at a time).
    private let session = StreamingJSONDecoder.Session()

    /// A JSON coder.
    public init() {}

    /// Encodes `value` as JSON.
    ///
    /// - Throws: `EncodingError` if `value` cannot be encoded.
    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        // The same JSON text, without the encoder's set-up: outputs are often plain integers.
        // Exact types, not `as?` casts: `as? [UInt8]` also takes an empty array of any element
        // type and an optional holding bytes, which `decode(_:from:)` would then read as JSON.
        if Value.self == Int.self {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(20)
            StreamingJSONEncoder.appendDecimal(unsafeBitCast(value, to: Int.self), to: &bytes)
            return bytes
        }
        if Value.self == [UInt8].self { return value as! [UInt8] }
        do {
            return try StreamingJSONEncoder.encode(value)
        } catch is StreamingJSONEncoder.Unsupported {
            return Array(try encoder.encode(value))
        }
    }

    /// Encodes each of `values` as JSON into `buffer` with one streaming encoder, so a
    /// chunk of jobs shares its buffer and set-up.
    ///
    /// - Throws: `EncodingError` for the first value that cannot be encoded.
    public func encode<Value: Encodable>(each values: [Value], into buffer: inout [UInt8]) throws -> [Range<Int>] {
        // Raw bytes travel unencoded (see encode(_:)); the streaming encoder would write them
        // as a JSON array.
        if Value.self == [UInt8].self { return try encodeOneByOne(values, into: &buffer) }
        let start = buffer.count
        do {
            return try StreamingJSONEncoder.encode(each: values, into: &buffer)
        } catch is StreamingJSONEncoder.Unsupported {
            buffer.removeSubrange(start...)
            return try encodeOneByOne(values, into: &buffer)
        }
    }

    /// Decodes a `Value` from JSON.
    ///
    /// - Throws: `DecodingError` if the bytes are not a JSON `Value`.
    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>) throws -> Value {
        // Bit casts, not `as!`: the types are checked to be the same, and a dynamic cast costs
        // more than decoding a small integer.
        if type == Int.self, let integer = Self.integer(bytes) { return unsafeBitCast(integer, to: Value.self) }
        if type == [UInt8].self { return unsafeBitCast(Array(bytes), to: Value.self) }
        // do/catch, not try?: an Optional<Value> costs a metadata lookup per call in this
        // unspecialized code.
        do {
            return try StreamingJSONDecoder.decode(type, from: bytes, session: session)
        } catch {
            return try decoder.decode(type, from: Data(bytes))
        }
    }

    /// A JSON integer without sign oddities, leading zeros or spaces, or `nil` (the decoder
    /// then decides).
    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { integer($0) }
    }

    /// A JSON integer of at most 18 characters (no overflow) in `bytes`, as `JSONDecoder`
    /// reads it into an `Int`, or `nil` where it might read it otherwise or not at all.
    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        // JSON has no leading zeros: "07" is not an integer to JSONDecoder.
        guard index < bytes.count, bytes[index] != UInt8(ascii: "0") || index + 1 == bytes.count else { return nil }
        var value = 0
        while index < bytes.count {
            let digit = Int(bytes[index]) &- 48
            guard digit >= 0 && digit <= 9 else { return nil }
            value = value &* 10 &+ digit
            index += 1
        }
        return negative ? -value : value
    }

    /// A JSON string with nothing to unescape (no backslash, no control character) whose
    /// bytes are valid UTF-8, as `JSONDecoder` reads it into a `String`, or `nil` (the
    /// decoders then decide).
    static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\""), bytes[bytes.count - 1] == UInt8(ascii: "\"") else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
        guard text.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return nil }
        return String(validating: text.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    /// `true` or `false` exactly, as `JSONDecoder` reads it into a `Bool`, or `nil`.
    static func bool(_ bytes: UnsafeRawBufferPointer) -> Bool? {
        if bytes.elementsEqual("true".utf8) { return true }
        if bytes.elementsEqual("false".utf8) { return false }
        return nil
    }

    /// A `[UInt8]` output, which travels as its raw bytes (see ``encode(_:)``).
    static func byteArray(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        Array(bytes)
    }
}
