// Greenlets as gevent has them beyond the seeds' examples (whose twins are in
// Tests/Helpers/SeedTwins): iwait, a bounded Pool with a progress line, a timeout the
// greenlet survives. Run: swift run GeventBasics
import Sprout

try Hub.run {
    // iwait: each greenlet as it finishes, as its own type.
    let naps = [0.03, 0.01, 0.02].map { seconds in
        spawn { try await sleep(seconds); return seconds }
    }
    for try await nap in iwait(naps) { print("woke after", try await nap.get()) }

    // Pool(size:).map with a progress line on standard error (drawn on a terminal only).
    let line = ProgressLine(label: "squares")
    let squares = try await Pool(size: 4).map(1...8, progress: line.update) { n in
        try await sleep(0.01)
        return n * n
    }
    print(squares)

    // gevent.Timeout: the greenlet that set it catches it and goes on.
    do {
        try await withTimeout(0.05) { try await sleep(10) }
    } catch is Timeout {
        print("timed out, and still running")
    }
}
