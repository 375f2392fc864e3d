#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
}

/// The default coder: JSON, readable when a frame must be debugged.
public struct JSONProcessCoder: ProcessCoder {
    // Made once: creating a JSONEncoder per job costs more than encoding a small one.
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    /// A JSON coder.
    public init() {}

    /// Encodes `value` as JSON.
    ///
    /// - Throws: `EncodingError` if `value` cannot be encoded.
    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        Array(try encoder.encode(value))
    }

    /// Decodes a `Value` from JSON.
    ///
    /// - Throws: `DecodingError` if the bytes are not a JSON `Value`.
    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>) throws -> Value {
        try decoder.decode(type, from: Data(bytes))
    }
}
