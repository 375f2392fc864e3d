import SproutTestSupport
import Testing
@testable import Sprout

import Glibc

/// What the watchers of one signal saw: callbacks run, and arrivals that reached only some
/// of them before the hub's next turn.
@Hub
private final class Arrivals {
    var callbacks = 0
    var split = 0
}

/// A thread's body: sends SIGUSR2 to itself, so libuv's handler runs on this thread.
private func raiseSIGUSR2OnThisThread(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    pthread_kill(pthread_self(), SIGUSR2)
    return nil
}

@Suite(.heavy)
struct SignalWatcherTests {
    /// `Hub.run`'s default shutdown decides whether a `Signals` claims SIGTERM when its own
    /// watcher sees it: if the claiming watcher saw the signal a turn earlier, the claimer
    /// may already have handled it and closed, and the program then exited 143 as if
    /// nobody handled it (the job queue host's lease test, exit 143 with no output).
    @Test
    func everyWatcherOfASignalSeesEachArrivalInTheSameTurn() async throws {
        try await onHub {
            let watchers = 4, sends = 100
            let arrivals = Arrivals()
            let all = try (0..<watchers).map { _ in
                try SignalWatcher(signal: SIGUSR2, keepsLoopAlive: true) { _ in
                    if arrivals.callbacks % watchers == 0 {
                        // Runs on the hub's next turn: by then every watcher saw this arrival.
                        Hub.later { if arrivals.callbacks % watchers != 0 { arrivals.split += 1 } }
                    }
                    arrivals.callbacks += 1
                }
            }
            defer { for watcher in all { watcher.close() } }
            for sent in 1...sends {
                // From a thread of its own, which then runs libuv's handler, while the hub
                // waits for events: as a signal sent from outside reaches the program.
                var thread = pthread_t()
                pthread_create(&thread, nil, raiseSIGUSR2OnThisThread, nil)
                pthread_detach(thread)
                let deadline = monotonicNanoseconds() + 5_000_000_000
                while arrivals.callbacks < sent * watchers, monotonicNanoseconds() < deadline { try await sleep(0.001) }
                try #require(arrivals.callbacks == sent * watchers, "arrival \(sent) reached every watcher")
            }
            #expect(arrivals.split == 0, "arrivals seen by some watchers a turn before the others")
        }
    }
}
