/// The decimal text of an integer, as `String(integer)` writes it, made in a buffer on the
/// stack without making the string: the JSON encoder writes integers with it, a worker a
/// map's `Int` outputs straight into the answer it holds back, the HTTP server its lengths,
/// the job queue the numbers of a byte array's JSON. Inlinable: those outside this module
/// write a digit or a few per call.
package enum DecimalText {
    /// Hands `body` the decimal text of `integer`.
    @inlinable
    package static func with<Result>(_ integer: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var magnitude = integer.magnitude
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[19 - count] = UInt8(truncatingIfNeeded: magnitude % 10) + 48
                magnitude /= 10
                count += 1
            } while magnitude > 0
            // Int.min has 19 digits: its sign still fits.
            if integer < 0 {
                count += 1
                digits[20 - count] = 45
            }
            return body(UnsafeRawBufferPointer(start: digits.baseAddress! + (20 - count), count: count))
        }
    }

    /// Appends the decimal text of `integer` to `bytes`.
    @inlinable
    package static func append(_ integer: Int, to bytes: inout [UInt8]) {
        with(integer) { bytes.append(contentsOf: $0) }
    }
}
