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
    // What the streaming encoder keeps from one encode to the next: a job run alone, or a
    // map's chunk (one encode at a time).
    private let encoding = StreamingJSONEncoder.Session()

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
            DecimalText.append(unsafeBitCast(value, to: Int.self), to: &bytes)
            return bytes
        }
        if Value.self == [UInt8].self { return value as! [UInt8] }
        do {
            return try StreamingJSONEncoder.encode(value, session: encoding)
        } catch is StreamingJSONEncoder.Unsupported {
            return Array(try encoder.encode(value))
        }
    }

    /// Encodes each of `values` as JSON into `buffer` with one streaming encoder, so a
    /// chunk of jobs shares its buffer and set-up (kept from one chunk to the next).
    ///
    /// - Throws: `EncodingError` for the first value that cannot be encoded.
    public func encode<Value: Encodable>(each values: [Value], into buffer: inout [UInt8]) throws -> [Range<Int>] {
        // Raw bytes travel unencoded (see encode(_:)); the streaming encoder would write them
        // as a JSON array.
        if Value.self == [UInt8].self { return try encodeOneByOne(values, into: &buffer) }
        let start = buffer.count
        do {
            return try StreamingJSONEncoder.encode(each: values, into: &buffer, session: encoding)
        } catch is StreamingJSONEncoder.Unsupported {
            buffer.removeSubrange(start...)
            return try encodeOneByOne(values, into: &buffer)
        }
    }

    /// Decodes a `Value` from JSON.
    ///
    /// - Throws: `DecodingError` if the bytes are not a JSON `Value`.
    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>) throws -> Value {
        // A plain output is read without a decoder's set-up, by the readers a map's answers
        // take too (MapRun). Bit casts, not `as!`: the types are checked to be the same, and
        // a dynamic cast costs more than decoding a small integer.
        switch PlainOutput(type) {
        case .integer?: if let value = bytes.withUnsafeBytes(StreamingJSONDecoder.integer) { return unsafeBitCast(value, to: Value.self) }
        case .string?: if let value = bytes.withUnsafeBytes(StreamingJSONDecoder.string) { return unsafeBitCast(value, to: Value.self) }
        case .bool?: if let value = bytes.withUnsafeBytes(StreamingJSONDecoder.bool) { return unsafeBitCast(value, to: Value.self) }
        case .bytes?: return unsafeBitCast(Array(bytes), to: Value.self)
        case nil: break
        }
        // do/catch, not try?: an Optional<Value> costs a metadata lookup per call in this
        // unspecialized code.
        do {
            return try StreamingJSONDecoder.decode(type, from: bytes, session: session)
        } catch {
            return try decoder.decode(type, from: Data(bytes))
        }
    }

    /// Decodes a map's chunk of `Value` jobs: `body` gets a decoder that reads them with the
    /// coder's streaming session, taken once for the chunk instead of once per job, or `nil`
    /// when `Value` is read without one (a plain value or scalar) or the session is in use
    /// (the jobs then go through ``decode(_:from:)``). While `body` runs, any other decode
    /// with this coder (one in a job's `run()`, say) goes without the session.
    nonisolated(nonsending) func withChunkDecoder<Value: Decodable, Result>(
        _ type: Value.Type, _ body: nonisolated(nonsending) (ChunkDecoder<Value>?) async -> Result
    ) async -> Result {
        guard PlainOutput(type) == nil, JSONScalarTypes.kind(of: type) == nil, session.take() else { return await body(nil) }
        defer { session.give() }
        return await body(ChunkDecoder(session: session, decoder: decoder))
    }

    /// Reads the jobs of a chunk with the session ``withChunkDecoder(_:_:)`` holds; used only
    /// within its call.
    struct ChunkDecoder<Value: Decodable> {
        // Unowned: the coder running withChunkDecoder(_:_:) holds both while this is used,
        // and a job's copies of this cost no reference counting.
        fileprivate unowned(unsafe) let session: StreamingJSONDecoder.Session
        fileprivate unowned(unsafe) let decoder: JSONDecoder

        /// Decodes a `Value` from JSON, as ``decode(_:from:)`` does.
        ///
        /// - Throws: `DecodingError` if the bytes are not a JSON `Value`.
        func decode(_ bytes: ArraySlice<UInt8>) throws -> Value {
            do {
                return try session.decodeHeld(Value.self, from: bytes)
            } catch {
                return try decoder.decode(Value.self, from: Data(bytes))
            }
        }
    }

    /// The outputs this coder writes plainly enough to be read without a decoder, and
    /// reads so: one dispatch for a single job's answer (``decode(_:from:)``) and for a
    /// map's, which reads a chunk's answers straight into their slots (MapRun).
    enum PlainOutput {
        case integer, string, bool, bytes

        init?(_ type: Any.Type) {
            if type == Int.self {
                self = .integer
            } else if type == String.self {
                self = .string
            } else if type == Bool.self {
                self = .bool
            } else if type == [UInt8].self {
                self = .bytes
            } else {
                return nil
            }
        }
    }

    /// A `[UInt8]` output, which travels as its raw bytes (see ``encode(_:)``).
    static func byteArray(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        Array(bytes)
    }
}
