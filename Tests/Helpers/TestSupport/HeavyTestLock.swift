import Sprout

/// The one process-wide lock that heavy tests take in turn. It is asynchronous: a test
/// waiting for it suspends and gives its thread back, since Swift's cooperative pool has
/// only as many threads as cores (2 on these machines) and a blocked one would stall the
/// test holding the lock as well. Waiters are served first come, first served.
final class HeavyTestLock: Sendable {
    static let shared = HeavyTestLock()

    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var next = 0
    }

    private let state = ThreadMutex(State())

    /// Waits until the lock is free and takes it. Cancellation does not end the wait: a
    /// test that got the lock must run, and one that did not has not started.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.held {
                    state.waiters.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the lock to the longest waiter, or frees it.
    func release() {
        let successor = state.withLock { state -> CheckedContinuation<Void, Never>? in
            precondition(state.held, "HeavyTestLock released while free")
            guard state.next < state.waiters.count else {
                state.waiters.removeAll(keepingCapacity: true)
                state.next = 0
                state.held = false
                return nil
            }
            defer { state.next += 1 }
            return state.waiters[state.next]
        }
        successor?.resume()
    }
}
