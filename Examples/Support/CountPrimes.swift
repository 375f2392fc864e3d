import Sprout

/// One piece of the ``PrimeWorkload`` as a pool job: the primes in `lower..<upper`.
public struct CountPrimes: ProcessJob {
    /// The first number tested.
    public var lower: Int
    /// One past the last number tested.
    public var upper: Int

    /// A job counting the primes in `lower..<upper`.
    public init(lower: Int, upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    /// Counts them, in the worker. Throws nothing.
    public func run() -> Int { countPrimes(from: lower, to: upper) }
}
