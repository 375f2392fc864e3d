import Testing
@testable import Sprout
import SproutTestSupport

@Suite(.heavy)
struct WaitForAllTests {
    @Test func waitsForEveryOtherGreenletIncludingLaterOnes() async throws {
        let finished = try await onHub { () async throws -> [Int] in
            let done = Queue<Int>()
            spawn {
                try await sleep(0.02)
                try await done.put(1)
                spawn { try await sleep(0.05); try await done.put(2) }
            }
            spawn { try await done.put(3) }
            #expect(try await waitForAll(timeout: slack(5)))
            var seen: [Int] = []
            while let item = try? done.getNowait() { seen.append(item) }
            return seen
        }
        #expect(finished.sorted() == [1, 2, 3])
    }

    @Test func waitsForAGreenletSpawnedFromAnotherThreadWhoseStartIsNotTakenYet() async throws {
        // The spawn from another thread lands in the hub's inbox while the hub is busy here;
        // waitForAll must see that queued start, not return before the greenlet has run.
        let ran = try await onHub { () async throws -> Bool in
            let transcript = Transcript()
            let spawned = Latch()
            let rc = startDetachedThread {
                spawn { transcript.add("ran") }
                spawned.open()
            }
            #expect(rc == 0)
            spawned.wait()  // blocks the hub briefly, so the start stays in the inbox
            #expect(try await waitForAll(timeout: slack(5)))
            return transcript.lines == ["ran"]
        }
        #expect(ran)
    }

    @Test func givesUpAtTheTimeout() async throws {
        try await onHub { () async throws in
            let sleeper = spawn { try await sleep(3600) }
            let start = monotonicNanoseconds()
            #expect(try await waitForAll(timeout: 0.05) == false)
            #expect(monotonicNanoseconds() - start < 2_000_000_000)
            try await sleeper.kill()
        }
    }
}
