import Testing
@testable import SproutHTTP

@Suite("HTTP grammar byte classes")
struct HTTPGrammarTests {
    /// Every byte against RFC 9110's tchar, written out: the masks behind isTokenByte
    /// are easy to get one bit wrong.
    @Test
    func tokenBytesAreExactlyTchar() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    /// Field values: HTAB, space, visible ASCII and obs-text; no other control byte.
    @Test
    func fieldValueBytesRefuseControlBytes() {
        for byte in UInt8.min...UInt8.max {
            #expect(isFieldValueByte(byte) == (byte == 9 || (byte >= 32 && byte != 127)), "byte \(byte)")
        }
    }
}
