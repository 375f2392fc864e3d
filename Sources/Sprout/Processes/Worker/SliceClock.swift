/// Tells a loop on the hub when it has used up its slice of the hub's time. It reads the
/// clock every ``checkEvery`` steps only, from the first such step on, so a loop of a few
/// steps (a pool's round trip: one answer) never reads it.
struct SliceClock {
    /// How many steps go between two readings of the clock.
    static let checkEvery = 8

    private let slice: UInt64?
    private var steps = 0
    private var started: UInt64 = 0

    /// A clock for a slice of `slice` nanoseconds; `nil` for no limit.
    init(slice: UInt64?) {
        self.slice = slice
    }

    /// Counts one step; true once the slice is used up (never without a limit).
    mutating func isOver() -> Bool {
        guard let slice else { return false }
        steps += 1
        guard steps % Self.checkEvery == 0 else { return false }
        let now = monotonicNanoseconds()
        if started == 0 { started = now }
        return now - started >= slice
    }
}
