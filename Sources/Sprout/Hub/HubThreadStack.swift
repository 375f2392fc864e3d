import CLibuv
import CSproutLinux
import Synchronization

import Glibc

/// The call stack of the hub's thread, taken from another thread — the blocking monitor's,
/// so its report names the function that holds the hub — without changing what the hub
/// thread does.
///
/// A hub blocked in a system call (`usleep`, a blocking `read`) is never signalled: a signal
/// would cut short the very sleep or wait being observed (`EINTR`; `SA_RESTART` does not
/// restart sleeps). The kernel gives its stack pointer and program counter in
/// `/proc/self/task/<tid>/syscall`, and ``SuspendedStack`` walks its stack from there.
/// Only a thread the kernel shows as running (a CPU-bound loop, with no call to interrupt)
/// gets a real-time signal of Sprout's own (`SIGRTMIN + 7`), whose handler calls
/// `backtrace()` into a buffer allocated beforehand and publishes the count — nothing that
/// allocates or locks (`backtrace` was called once on the hub thread at start, so its
/// first-use loading of the unwinder is done). Should the thread enter a system call
/// between the kernel's "running" and the signal, a few microseconds, a sleep there would
/// still end early; a CPU-bound thread seldom does.
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
    /// The kernel returns from the handler through this code (`sa_restorer`); in a
    /// backtrace taken in the handler, the frame after it is where the thread was stopped.
    private static let trampoline = Atomic<UInt>(0)
    /// The hub thread's kernel thread id (0 until it runs) and its pthread handle.
    private static let threadID = Atomic<Int32>(0)
    private static let thread = Atomic<UInt>(0)

    /// Whether stacks are taken at all (`SPROUT_BLOCKING_STACK=off` turns it off).
    static let enabled: Bool = {
        guard let text = getenv("SPROUT_BLOCKING_STACK") else { return true }
        return String(cString: text) != "off"
    }()

    /// Runs on the hub thread before the loop starts: notes the thread, loads the unwinder
    /// (the first `backtrace()` call may allocate) and installs the handler.
    static func prepareOnHubThread() {
        thread.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .relaxed)
        threadID.store(sprout_gettid(), ordering: .releasing)
        guard enabled else { return }
        guard !installed.exchange(true, ordering: .relaxed) else { return }
        _ = backtrace(frames, capacity)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let taken = backtrace(HubThreadStack.frames, HubThreadStack.capacity)
            HubThreadStack.count.store(taken, ordering: .releasing)
        }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
        // The C library fills in the return trampoline; the handler's frames end there.
        var installedAction = sigaction()
        sigaction(signal, nil, &installedAction)
        trampoline.store(installedAction.sa_restorer.map { UInt(bitPattern: unsafeBitCast($0, to: Int.self)) } ?? 0, ordering: .relaxed)
    }

    /// The hub thread's kernel thread id, once it runs (the blocking monitor reads the
    /// scheduler's figures for it); `nil` before.
    static var kernelThreadID: Int32? {
        let tid = threadID.load(ordering: .acquiring)
        return tid == 0 ? nil : tid
    }

    /// The hub thread's stack now, innermost frame first: its program counter, then return
    /// addresses; `nil` when it cannot be taken (off, not started, or the thread moved on).
    static func capture() -> [UnsafeRawPointer]? {
        guard enabled else { return nil }
        let tid = threadID.load(ordering: .acquiring)
        guard tid != 0 else { return nil }
        switch SuspendedStack.state(ofThread: tid) {
        case .blocked(let stackPointer, let programCounter):
            return SuspendedStack.walk(from: stackPointer, programCounter: programCounter, ofThread: tid)
        case .running:
            return signalledBacktrace(of: pthread_t(thread.load(ordering: .relaxed)))
        case nil:
            return nil
        }
    }

    /// Takes the stack of a running `thread` with the signal handler, waiting up to 100 ms
    /// for it to run; its frames without the handler's own, or `nil`.
    private static func signalledBacktrace(of thread: pthread_t) -> [UnsafeRawPointer]? {
        guard installed.load(ordering: .relaxed) else { return nil }
        count.store(-1, ordering: .relaxed)
        guard pthread_kill(thread, signal) == 0 else { return nil }
        for _ in 0..<100 {
            let taken = count.load(ordering: .acquiring)
            if taken >= 0 {
                let taken = (0..<Int(taken)).compactMap { frames[$0].map(UnsafeRawPointer.init) }
                let restorer = trampoline.load(ordering: .relaxed)
                guard let last = taken.firstIndex(where: { UInt(bitPattern: $0) == restorer }) else {
                    // ThreadSanitizer takes the signal itself and calls the handler later from
                    // its own code, not through the trampoline: leave out the handler (its
                    // closure and C entry point) and keep the sanitizer's frames.
                    return Array(taken.dropFirst(2))
                }
                return Array(taken[(last + 1)...])
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
        return nil
    }
}
