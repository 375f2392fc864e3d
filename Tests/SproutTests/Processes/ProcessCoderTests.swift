import Testing
@testable import Sprout

import FoundationEssentials

private struct Inner: Codable, Equatable {
    var name: String
    var weight: Double?
}

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case square(Int)
}

private struct Everything: Codable, Equatable {
    var text = "quote \" backslash \\ newline \n tab \t bell \u{7} é 漢字 🌱 /slash"
    var small: Int8 = -128
    var big: UInt64 = .max
    var whole = 3.0
    var fraction = -0.1
    var single: Float = 2.5
    var flag = true
    var missing: Int? = nil
    var present: Int? = 7
    var list = [1, 2, 3]
    var empty: [String] = []
    var byName = ["a": 1, "b": 2]
    var byNumber = [1: "one", 2: "two"]
    var inner = Inner(name: "x", weight: nil)
    var inners = [Inner(name: "y", weight: 1.5)]
    var shape = Shape.circle(radius: 1.25)
    var date = Date(timeIntervalSince1970: 1_700_000_000.5)
    var data = Data([0, 1, 2, 255])
}

@Suite("JSONProcessCoder")
struct ProcessCoderTests {
    @Test func valuesSurviveTheRoundTrip() throws {
        let coder = JSONProcessCoder()
        let value = Everything()
        #expect(try coder.decode(Everything.self, from: coder.encode(value)[...]) == value)
        #expect(try coder.decode(Int.self, from: coder.encode(-42)[...]) == -42)
        #expect(try coder.decode([UInt8].self, from: coder.encode([UInt8]([9, 8]))[...]) == [9, 8])
        #expect(try coder.decode(String.self, from: coder.encode("a\"b")[...]) == "a\"b")
    }

    /// An integer read the fast way (no decoder) is what `JSONDecoder` reads, or the text
    /// goes to the decoders: leading zeros, a lone sign, exponents and fractions are theirs.
    @Test func integersReadTheFastWayAreWhatJSONDecoderReads() throws {
        let coder = JSONProcessCoder()
        let texts = ["0", "-0", "7", "-12", "07", "-07", "00", "-", "", "1e3", "1.0", " 5", "+5",
                     "123456789012345678", "-12345678901234567", "9223372036854775807", "92233720368547758070"]
        var taken = 0
        for text in texts {
            let foundation = try? JSONDecoder().decode(Int.self, from: Data(text.utf8))
            let ours = try? coder.decode(Int.self, from: Array(text.utf8)[...])
            #expect(ours == foundation, "\(text)")
            if let fast = Array(text.utf8).withUnsafeBytes({ StreamingJSONDecoder.integer($0) }) {
                taken += 1
                #expect(fast == foundation, "\(text) read the fast way")
            }
        }
        #expect(taken == 7, "the plain integers in range are taken")
    }

    /// Strings and booleans read the fast way (no decoder) are what `JSONDecoder` reads;
    /// the plain ones are taken, the rest left to the decoders.
    @Test func stringsAndBooleansReadTheFastWayAreWhatJSONDecoderReads() throws {
        let texts: [[UInt8]] = ["\"\"", "\"plain\"", "\"é✓ 😀\"", "\"del \u{7F}\"", "\"a\\\"b\"", "\"tab\\t\"", "\"\\u00e9\"",
                                "\"raw\ttab\"", "\"open", "\"", "plain", " \"x\"", "\"x\" "].map { Array($0.utf8) }
            + [[0x22, 0xC3, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]]
        var taken = 0
        for text in texts {
            let fast = text.withUnsafeBytes { StreamingJSONDecoder.string($0) }
            if let fast {
                taken += 1
                #expect(fast == (try? JSONDecoder().decode(String.self, from: Data(text))), "\(text)")
                #expect(fast.utf8.elementsEqual(text.dropFirst().dropLast()), "\(text): the same bytes")
            }
        }
        #expect(taken == 4, "the plain strings are taken")
        for text in ["true", "false", "True", "1", " true", "true ", "fals", "nul"] {
            let fast = Array(text.utf8).withUnsafeBytes { StreamingJSONDecoder.bool($0) }
            let foundation = try? JSONDecoder().decode(Bool.self, from: Data(text.utf8))
            #expect(fast == nil || fast == foundation, "\(text)")
            #expect((fast != nil) == (text == "true" || text == "false"), "\(text)")
        }
    }

    /// Only a value of type `[UInt8]` travels as raw bytes: an empty array of another element
    /// type, or an optional holding bytes, is JSON like any other value (an `as? [UInt8]`
    /// cast took both, and a job returning `[String]()` failed as "did not decode").
    @Test func onlyByteArraysTravelRaw() throws {
        let coder = JSONProcessCoder()
        #expect(try coder.decode([String].self, from: coder.encode([String]())[...]) == [])
        #expect(try coder.decode([Int].self, from: coder.encode([Int]())[...]) == [])
        #expect(try coder.decode([UInt8].self, from: coder.encode([UInt8]())[...]) == [])
        let optionalBytes: [UInt8]? = [1, 2]
        #expect(try coder.decode([UInt8]?.self, from: coder.encode(optionalBytes)[...]) == [1, 2])
        let optionalInteger: Int? = 5
        #expect(try coder.decode(Int?.self, from: coder.encode(optionalInteger)[...]) == 5)
        var buffer: [UInt8] = []
        let chunks: [[UInt8]] = [[], [0, 255], [7]]
        let ranges = try coder.encode(each: chunks, into: &buffer)
        #expect(try ranges.map { try coder.decode([UInt8].self, from: buffer[$0]) } == chunks)
    }

    @Test func theStreamingEncoderWritesWhatJSONDecoderReads() throws {
        let inner = Inner(name: "line\nbreak", weight: 2)
        let bytes = try StreamingJSONEncoder.encode(inner)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"name":"line\nbreak","weight":2}"#)
        #expect(try JSONDecoder().decode(Inner.self, from: Data(bytes)) == inner)
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { _ = try StreamingJSONEncoder.encode(Shape.square(1)) }
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { _ = try StreamingJSONEncoder.encode(Double.nan) }
    }

    /// A negative zero keeps its sign, as through JSONEncoder ("-0"), alone, as a field and
    /// in a chunk: the whole-number path wrote "0", so -0.0 arrived as +0.0.
    @Test func aNegativeZeroKeepsItsSign() throws {
        struct Signed: Codable { var double: Double; var float: Float }
        let coder = JSONProcessCoder()
        #expect(try coder.encode(-0.0) == Array(JSONEncoder().encode(-0.0)))
        let back = try coder.decode(Signed.self, from: coder.encode(Signed(double: -0.0, float: -0.0))[...])
        #expect(back.double.sign == .minus && back.float.sign == .minus)
        var buffer: [UInt8] = []
        let ranges = try coder.encode(each: [-0.0, 0.0, -3.0], into: &buffer)
        #expect(try ranges.map { try coder.decode(Double.self, from: buffer[$0]).sign } == [.minus, .plus, .minus])
    }

    /// A chunk encoded in one call reads back value by value, whichever path each value
    /// takes (plain integers and strings, escapes, the extremes, Foundation's fallback).
    @Test func encodingEachOfAChunkReadsBackOneByOne() throws {
        struct Item: Codable, Equatable {
            var n: Int
            var text: String
        }
        let items = [Item(n: Int.min, text: "quote \" backslash \\ newline \n"), Item(n: Int.max, text: ""),
                     Item(n: 0, text: "é 漢字 🌱"), Item(n: -7, text: "plain")]
        let coder = JSONProcessCoder()
        var buffer: [UInt8] = [9, 9]
        let ranges = try coder.encode(each: items, into: &buffer)
        #expect(ranges.first?.lowerBound == 2 && ranges.last?.upperBound == buffer.count)
        #expect(try ranges.map { try JSONDecoder().decode(Item.self, from: Data(buffer[$0])) } == items)
        let shapes = [Shape.square(3), Shape.circle(radius: 0.5)]
        var fallback: [UInt8] = []
        let shapeRanges = try coder.encode(each: shapes, into: &fallback)
        #expect(try shapeRanges.map { try coder.decode(Shape.self, from: fallback[$0]) } == shapes)
    }

    /// A chunk's values share one encoder only while none keeps it: a value that holds on to
    /// the encoder it was given gets it to itself, and the next value a fresh one.
    @Test func aChunkSharesItsEncoderOnlyWhileNoValueKeepsIt() throws {
        final class Kept: @unchecked Sendable { var encoders: [any Encoder] = [] }
        struct Keeper: Encodable {
            let kept: Kept
            let n: Int
            func encode(to encoder: any Encoder) throws {
                kept.encoders.append(encoder)
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(n, forKey: .n)
            }
            enum CodingKeys: String, CodingKey { case n }
        }
        let kept = Kept()
        var buffer: [UInt8] = []
        let ranges = try StreamingJSONEncoder.encode(each: (1...3).map { Keeper(kept: kept, n: $0) }, into: &buffer)
        #expect(ranges.map { String(decoding: buffer[$0], as: UTF8.self) } == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        let objects = kept.encoders.map { ObjectIdentifier($0 as AnyObject) }
        #expect(Set(objects).count == 3)
    }

    /// A chunk's encoder hands the keyed container it made to the next value that asks for
    /// the same key type, and a new one when the key type changes: values whose
    /// `encode(to:)` switches between key types each come out whole and right.
    @Test func aChunkOfValuesWithChangingKeyTypesEncodesEachRight() throws {
        struct Either: Encodable {
            let n: Int
            enum Small: String, CodingKey { case n, half }
            enum Large: String, CodingKey { case large, n }
            func encode(to encoder: any Encoder) throws {
                if n < 3 {
                    var container = encoder.container(keyedBy: Small.self)
                    try container.encode(n, forKey: .n)
                    try container.encode(Double(n) / 2, forKey: .half)
                } else {
                    var container = encoder.container(keyedBy: Large.self)
                    try container.encode(true, forKey: .large)
                    try container.encode(n, forKey: .n)
                }
            }
        }
        let values = [1, 2, 5, 6, 0, 7, 1].map(Either.init)
        var buffer: [UInt8] = []
        let ranges = try StreamingJSONEncoder.encode(each: values, into: &buffer)
        // In the order encode(to:) writes them (JSONEncoder's own order varies from run to run).
        let expected = [#"{"n":1,"half":0.5}"#, #"{"n":2,"half":1}"#, #"{"large":true,"n":5}"#, #"{"large":true,"n":6}"#,
                        #"{"n":0,"half":0}"#, #"{"large":true,"n":7}"#, #"{"n":1,"half":0.5}"#]
        #expect(ranges.map { String(decoding: buffer[$0], as: UTF8.self) } == expected)
    }

    /// Coding keys a chunk's encoder has written are written again from a cache, matched by
    /// their bytes: a key equal to a cached one only as Unicode text (another normalization)
    /// keeps its own bytes. (accept's repro.)
    @Test func keysThatDifferOnlyInNormalizationKeepTheirBytes() throws {
        var buffer: [UInt8] = []
        let ranges = try JSONProcessCoder().encode(each: [["\u{e9}": 1], ["e\u{301}": 2]], into: &buffer)
        #expect(Array(buffer[ranges[0]]) == Array(#"{"\#u{e9}":1}"#.utf8))
        #expect(Array(buffer[ranges[1]]) == Array(#"{"e\#u{301}":2}"#.utf8))
    }

    /// The keyed container's own paths for the commonest fields (and the coder's for a
    /// lone `Int`) write the same text as `JSONEncoder`.
    @Test func theStreamingEncoderWritesFieldsAsJSONEncoderDoes() throws {
        // In key order, so JSONEncoder's sorted output is the streamed order.
        struct Fields: Codable {
            var flag: Bool
            var id: Int
            var low: Int
            var maybe: String?
            var name: String
            var off: Bool
            var quoted: String
            var ratio: Double
            var whole: Double
        }
        let fields = Fields(flag: true, id: -5, low: .min, maybe: "m", name: "né 🌱", off: false,
                            quoted: "a\"b\\c\n", ratio: 0.5, whole: 3)
        let sorted = JSONEncoder()
        sorted.outputFormatting = .sortedKeys
        let streamed = String(decoding: try StreamingJSONEncoder.encode(fields), as: UTF8.self)
        #expect(streamed == String(decoding: try sorted.encode(fields), as: UTF8.self))
        let coder = JSONProcessCoder()
        for value in [0, 7, -1, Int.max, Int.min] {
            #expect(try coder.encode(value) == Array(String(value).utf8))
        }
    }

    @Test func theStreamingDecoderReadsWhatTheEncodersWrite() throws {
        struct Plain: Codable, Equatable {
            var id: Int
            var name: String
            var scores: [Double]
            var inner: Inner
            var maybe: Int?
            var tags: [String: Int]
            var flag: Bool
            var tiny: Int8
        }
        let plain = Plain(id: -5, name: "né 🌱", scores: [1, 2.5, -1e20], inner: Inner(name: "i", weight: nil),
                          maybe: nil, tags: ["a": 1], flag: false, tiny: -3)
        let fast = try StreamingJSONEncoder.encode(plain)
        #expect(try StreamingJSONDecoder.decode(Plain.self, from: fast[...]) == plain)
        let foundation = Array(try JSONEncoder().encode(plain))
        #expect(try StreamingJSONDecoder.decode(Plain.self, from: foundation[...]) == plain)
        // Escapes and enums with payloads go to JSONDecoder.
        #expect(throws: StreamingJSONDecoder.Unsupported.self) {
            _ = try StreamingJSONDecoder.decode(String.self, from: Array(#""a\nb""#.utf8)[...])
        }
        #expect(throws: StreamingJSONDecoder.Unsupported.self) {
            _ = try StreamingJSONDecoder.decode(Shape.self, from: Array(try JSONEncoder().encode(Shape.square(2)))[...])
        }
        #expect(throws: StreamingJSONDecoder.Unsupported.self) {
            _ = try StreamingJSONDecoder.decode(Plain.self, from: Array(#"{"id": 1"#.utf8)[...])
        }
    }
}
