import Testing
import Sprout

import FoundationEssentials

private struct Member: Codable, Equatable {
    var id: Int
    var name: String?
}

private struct Flags: Codable, Equatable {
    var on: Bool
    var ratio: Double
}

/// More members than an object keeps in place: the rest are looked up past them.
private struct Wide: Codable, Equatable {
    var a: Int
    var b: String
    var c: Bool
    var d: Double
    var e: [Int]
    var f: Int?
}

/// Inputs the fuzzer (and the RFC) found: the fast path either agrees with JSONDecoder or
/// leaves the input to it by throwing.
@Suite("StreamingJSONDecoder")
struct StreamingJSONDecoderTests {
    private func fast<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? StreamingJSONDecoder.decode(type, from: ArraySlice(text.utf8))
    }

    @Test
    func leavesWhatJSONDecoderRefusesOrReadsDifferentlyToIt() {
        #expect(fast(String?.self, "nu*l") == nil, "a literal that is not null")
        #expect(fast(Bool.self, "tru3") == nil)
        #expect(fast(Bool.self, "fals3") == nil)
        #expect(fast(Int.self, "+5") == nil)
        #expect(fast(Int.self, "007") == nil)
        #expect(fast(Double.self, "0x10") == nil)
        #expect(fast(Double.self, "-inf") == nil)
        #expect(fast(Double.self, "1e400") == nil, "out of range")
        #expect(fast(Double.self, "1e-775") == nil, "too small: JSONDecoder refuses it")
        #expect(fast(Double.self, "-2.5e-320") == nil, "subnormal")
        #expect(fast(Float.self, "1e-50") == nil, "too small for a Float")
        #expect(fast(Double.self, "0.0e-775") == 0, "a zero is still a zero")
        #expect(fast(Double.self, "0e6") == nil, "JSONDecoder refuses it as a Double")
        #expect(fast(Double.self, "1.") == nil)
        #expect(fast(String.self, "\"a\u{1}b\"") == nil, "a raw control byte")
        #expect(fast([String].self, "[\"\\u0041\"]") == nil, "escapes")
        #expect((try? StreamingJSONDecoder.decode(String.self, from: ArraySlice([34, 0xff, 34]))) == nil, "invalid UTF-8")
        #expect(fast(Member.self, "{\"id\": 1, \"id\": 2}") == nil, "a key given twice")
        #expect(fast(Member.self, "{\"id\": 1, \"junk\": tru}") == nil, "a bad member no one asks for")
        #expect(fast(Member.self, "{\"id\": 1,}") == nil)
        #expect(fast([Int].self, "[1 2]") == nil)
        #expect(fast([Int].self, "[1] x") == nil)
        // JSONDecoder refuses these too (it accepts `{"id": 1,}`: the fast path leaves that to it).
        for text in ["nu*l", "tru3", "+5", "007", "0x10", "{\"id\": 1, \"junk\": tru}", "[1] x"] {
            #expect((try? JSONDecoder().decode(Member.self, from: Data(text.utf8))) == nil, "\(text)")
        }
    }

    /// Integers are read from the bytes in place, in fields (the keyed container's own
    /// `Int` path) and alone: the same values as `T(String)`, and what it refuses is left
    /// to JSONDecoder.
    @Test
    func readsIntegersInPlaceAsTheirStringInitializerDoes() {
        #expect(fast(Int.self, "9223372036854775807") == Int.max)
        #expect(fast(Int.self, "-9223372036854775808") == Int.min)
        #expect(fast(Int.self, "9223372036854775808") == nil, "one past Int.max")
        #expect(fast(Int.self, "-9223372036854775809") == nil, "one past Int.min")
        #expect(fast(Int8.self, "-128") == -128)
        #expect(fast(Int8.self, "128") == nil)
        #expect(fast(UInt8.self, "255") == 255)
        #expect(fast(UInt.self, "-0") == nil, "left to JSONDecoder")
        #expect(fast(Int.self, "-0") == 0)
        #expect(fast(Int.self, "1.0") == nil, "a fraction is left to JSONDecoder")
        #expect(fast(Int.self, "1e2") == nil, "an exponent is left to JSONDecoder")
        #expect(fast(Member.self, "{\"id\": -42}") == Member(id: -42, name: nil))
        #expect(fast(Member.self, "{\"id\": 9223372036854775807, \"name\": \"x\"}") == Member(id: Int.max, name: "x"))
        #expect(fast(Member.self, "{\"id\": 2.5}") == nil)
        #expect(fast(Member.self, "{\"id\": 99999999999999999999}") == nil)
        #expect(fast(Member.self, "{\"id\": \"7\"}") == nil, "a string is not an Int")
        #expect(fast(Flags.self, "{\"on\": true, \"ratio\": 0.5}") == Flags(on: true, ratio: 0.5))
        #expect(fast(Flags.self, "{\"on\": 1, \"ratio\": 0.5}") == nil, "a number is not a Bool")
    }

    @Test
    func readsValidDocumentsAsJSONDecoderDoes() throws {
        let texts = ["{\"id\": -0, \"name\": null}", " { \"id\" : 12 , \"name\" : \"caf\u{e9}\" , \"extra\" : [1, {\"a\": [true, false, null]}, 1.5e-3] } "]
        for text in texts {
            let reference = try JSONDecoder().decode(Member.self, from: Data(text.utf8))
            #expect(fast(Member.self, text) == reference, "\(text)")
        }
        #expect(fast(Double.self, "-12.5E+2") == -1250)
        #expect(fast(Float.self, "0.1") == Float(0.1))
        #expect(fast([Bool?].self, "[true, null, false]") == [true, nil, false])
    }

    @Test
    func readsObjectsWithMoreMembersThanItKeepsInPlace() throws {
        let text = #"{"f": 6, "x": {"y": [1]}, "e": [5, 5], "d": 4.5, "c": true, "b": "two", "a": 1}"#
        let reference = try JSONDecoder().decode(Wide.self, from: Data(text.utf8))
        #expect(fast(Wide.self, text) == reference)
        #expect(fast(Wide.self, #"{"a": 1, "b": "", "c": false, "d": 0, "e": []}"#) == Wide(a: 1, b: "", c: false, d: 0, e: [], f: nil))
        // A key given twice, the second time past the members kept in place, is left to
        // JSONDecoder (which takes the last).
        #expect(fast(Wide.self, #"{"a": 1, "b": "", "c": false, "d": 0, "e": [], "a": 2}"#) == nil)
    }
}
