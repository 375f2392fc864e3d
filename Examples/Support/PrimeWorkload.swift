import Glibc

/// The CPU-heavy workload of the offload comparison: count the primes below `limit` by
/// trial division, split into `pieces` ranges of about equal cost. Deterministic, so every
/// way of running it must produce the same ``checksum(_:)``; `bench/compare/peers/cpu_offload.py`
/// computes the same ranges and checksum in Python.
public struct PrimeWorkload: Sendable {
    /// Numbers below this are tested.
    public let limit: Int
    /// The ranges the work is split into, in order.
    public let ranges: [Range<Int>]

    /// Splits `0..<limit` into `pieces` ranges. Testing `n` costs about `sqrt(n)`, so a range
    /// ending at `x` costs about `x^1.5`: boundaries at `limit * (i / pieces)^(2/3)` give
    /// pieces of equal cost, so no worker is left with the one long piece at the end.
    public init(limit: Int, pieces: Int) {
        self.limit = max(limit, 2)
        let count = max(1, pieces)
        var bounds = [0]
        for index in 1..<count {
            bounds.append(Int(Double(self.limit) * pow(Double(index) / Double(count), 2.0 / 3.0)))
        }
        bounds.append(self.limit)
        ranges = (0..<count).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// The jobs a ``ProcessPool`` runs, one per range.
    public var jobs: [CountPrimes] { ranges.map { CountPrimes(lower: $0.lowerBound, upper: $0.upperBound) } }

    /// FNV-1a over the per-piece counts (as 64-bit little-endian) — equal only when every
    /// piece produced the same answer in the same order.
    public static func checksum(_ counts: [Int]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for count in counts {
            var value = UInt64(truncatingIfNeeded: count)
            for _ in 0..<8 {
                hash ^= value & 0xff
                hash = hash &* 0x100_0000_01b3
                value >>= 8
            }
        }
        return hash
    }

    /// The checksum as 16 hex digits.
    public static func checksumText(_ checksum: UInt64) -> String {
        let digits = String(checksum, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Counts the primes in `lower..<upper` by trial division by odd numbers: pure CPU work,
/// no allocation.
public func countPrimes(from lower: Int, to upper: Int) -> Int {
    var count = 0
    var candidate = max(lower, 2)
    while candidate < upper {
        if isPrime(candidate) { count &+= 1 }
        candidate &+= 1
    }
    return count
}

@inline(__always)
private func isPrime(_ value: Int) -> Bool {
    if value < 4 { return value >= 2 }
    if value & 1 == 0 { return false }
    var divisor = 3
    while divisor &* divisor <= value {
        if value % divisor == 0 { return false }
        divisor &+= 2
    }
    return true
}
