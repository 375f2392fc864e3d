/// Where to cut `input` into pieces, derived from its own bytes (FNV-1a, then xorshift),
/// so a fuzz input and its split are reproducible from the input file alone: up to eight
/// ascending offsets inside it.
public func splitPoints(for input: UnsafeBufferPointer<UInt8>) -> [Int] {
    guard input.count > 1 else { return [] }
    var state: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in input { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    state |= 1
    var points: [Int] = []
    for _ in 0..<Int(state % 9) {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        points.append(1 + Int(state % UInt64(input.count - 1)))
    }
    return points.sorted()
}

/// Stops the fuzzer with `message`: a broken invariant is a finding, like a crash.
public func invariantBroken(_ message: String) -> Never {
    fatalError("fuzz invariant broken: \(message)")
}
