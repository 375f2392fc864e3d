#if canImport(Glibc)
import Glibc
#endif

/// A small deterministic generator, so a failing randomized run can be replayed from its seed.
public struct SplitMix64: RandomNumberGenerator {
    /// The generator's whole state: the seed, advanced by each draw.
    public var state: UInt64

    /// A generator that starts from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed for a randomized test: SPROUT_TEST_SEED when set (to replay a failure), else a
/// fresh one. Printed either way with the test's name, so every run can be replayed.
public func testSeed(for test: String = #function) -> UInt64 {
    let seed: UInt64
    if let text = getenv("SPROUT_TEST_SEED"), let given = UInt64(String(cString: text)) {
        seed = given
    } else {
        seed = UInt64.random(in: 1...UInt64.max)
    }
    print("\(test): seed \(seed) (SPROUT_TEST_SEED=\(seed) replays it)")
    return seed
}
