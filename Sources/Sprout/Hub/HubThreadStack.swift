import CLibuv
import Synchronization

import Glibc

/// The call stack of the hub's thread, taken from another thread — the blocking monitor's,
/// so its report names the function that holds the hub.
///
/// The monitor sends the hub thread a real-time signal of Sprout's own (`SIGRTMIN + 7`);
/// its handler only calls `backtrace()` into a buffer allocated beforehand and publishes
/// the count — nothing that allocates or locks (`backtrace` itself was called once on the
/// hub thread at start, so its first-use loading of the unwinder is done). The monitor
/// then turns the addresses into names (``SymbolNames``) on its own thread.
enum HubThreadStack {
    /// The signal the handler answers; a program that uses `SIGRTMIN + 7` itself sets
    /// `SPROUT_BLOCKING_STACK=off`.
    static let signal = __libc_current_sigrtmin() + 7
    static let capacity: Int32 = 48
    /// Written only by the handler, read only after `count` says it is complete.
    nonisolated(unsafe) static let frames = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: Int(capacity))
    /// -1 while a capture is asked for and not done; then the number of frames.
    static let count = Atomic<Int32>(0)
    private static let installed = Atomic<Bool>(false)

    /// Whether stacks are taken at all (`SPROUT_BLOCKING_STACK=off` turns it off).
    static let enabled: Bool = {
        guard let text = getenv("SPROUT_BLOCKING_STACK") else { return true }
        return String(cString: text) != "off"
    }()

    /// Runs on the hub thread before the loop starts: loads the unwinder (the first
    /// `backtrace()` call may allocate) and installs the handler.
    static func prepareOnHubThread() {
        guard enabled, !installed.exchange(true, ordering: .relaxed) else { return }
        _ = backtrace(frames, capacity)
        _ = count.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let taken = backtrace(HubThreadStack.frames, HubThreadStack.capacity)
            HubThreadStack.count.store(taken, ordering: .releasing)
        }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
    }

    /// Takes the stack of `thread` (the hub's), waiting up to 100 ms for the handler to run;
    /// returns its frames, innermost first, without the handler's own, or `nil`.
    static func capture(of thread: pthread_t) -> [UnsafeRawPointer]? {
        guard enabled, installed.load(ordering: .relaxed) else { return nil }
        count.store(-1, ordering: .relaxed)
        guard pthread_kill(thread, signal) == 0 else { return nil }
        for _ in 0..<100 {
            let taken = count.load(ordering: .acquiring)
            if taken >= 0 {
                // Frame 0 is the handler, frame 1 the kernel's signal trampoline.
                return (0..<Int(taken)).dropFirst(2).compactMap { frames[$0].map(UnsafeRawPointer.init) }
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
        return nil
    }
}
