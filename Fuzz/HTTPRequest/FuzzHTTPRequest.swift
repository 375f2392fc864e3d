import FuzzSupport
import SproutHTTP

/// What the parser made of a byte stream: the requests it returned, then the error that
/// ended it (if any).
private struct Outcome: Equatable {
    var requests: [String] = []
    var error: String?
}

/// Small limits, so the fuzzer reaches 413 and 431 with small inputs.
private let limits = HTTPRequestParser.Limits(maxHeadBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 4096)

private func parse(_ input: UnsafeBufferPointer<UInt8>, cuts: [Int]) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    var start = 0
    for end in cuts + [input.count] {
        parser.append(input[start..<end])
        start = end
        do {
            while let request = try parser.next() {
                outcome.requests.append("\(request.method) \(request.target) \(request.minorVersion) "
                    + "\(request.headers.map { "\($0.name):\($0.value)" }) \(request.body)")
            }
        } catch {
            guard [400, 413, 431, 501, 505].contains(error.status) else { invariantBroken("status \(error.status) for \(error)") }
            outcome.error = error.description
            return outcome
        }
    }
    return outcome
}

/// libFuzzer's entry: the HTTP request parser never traps, and parsing the input whole,
/// at split points derived from it, and (for small inputs) byte by byte gives the same
/// requests and the same error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let whole = parse(input, cuts: [])
    let split = parse(input, cuts: splitPoints(for: input))
    if split != whole { invariantBroken("split \(split) differs from whole \(whole)") }
    if size <= 512 {
        let bytewise = parse(input, cuts: Array(0..<size))
        if bytewise != whole { invariantBroken("byte by byte \(bytewise) differs from whole \(whole)") }
    }
    return 0
}
