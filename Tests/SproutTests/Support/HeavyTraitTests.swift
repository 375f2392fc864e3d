import Synchronization
import Testing

/// How many of the tests below run at this moment.
private let running = Atomic<Int>(0)

/// The trait every heavy suite relies on: its test cases never overlap, and the time a
/// test waits for its turn does not count against its limit. Each test sleeps 0.4 s
/// holding the lock, so whichever runs last (in a parallel run) waits at least 0.8 s for
/// it; a limit of 1 s counted from before the wait would fail that one.
@Suite(.heavy(timeLimit: .seconds(1)))
struct HeavyTraitTests {
    @Test(arguments: 0..<3)
    func heavyTestCasesNeverOverlap(_ index: Int) async throws {
        let before = running.add(1, ordering: .sequentiallyConsistent).newValue
        try await Task.sleep(for: .milliseconds(400))
        let after = running.subtract(1, ordering: .sequentiallyConsistent).oldValue
        #expect(before == 1 && after == 1, "case \(index) overlapped another heavy test")
    }
}
