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
    /// The test below sees a split only when libuv's handler runs between the hub's reads,
    /// which is chance; this one checks the sharing itself: two watchers of a signal hold one
    /// handle while either is open, and the last one closed closes it (the next watcher gets
    /// a new one).
    @Test
    func theWatchersOfOneSignalShareOneHandle() async throws {
        try await onHub {
            let first = try SignalWatcher(signal: SIGUSR2) { _ in }
            let second = try SignalWatcher(signal: SIGUSR2) { _ in }
            let other = try SignalWatcher(signal: SIGUSR1) { _ in }
            defer { other.close() }
            #expect(first.handle === second.handle, "two watchers of SIGUSR2, two handles")
            #expect(first.handle !== other.handle, "SIGUSR1 and SIGUSR2 share a handle")
            let shared = first.handle
            first.close()
            let third = try SignalWatcher(signal: SIGUSR2) { _ in }
            #expect(third.handle === shared, "a watcher added while another is open gets the open handle")
            second.close()
            third.close()
            let fourth = try SignalWatcher(signal: SIGUSR2) { _ in }
            defer { fourth.close() }
            #expect(fourth.handle !== shared, "the handle outlived its last watcher")
        }
    }

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
