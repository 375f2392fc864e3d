// Whole-process scenarios for the hub tests: each runs in a process of its own, so exit
// codes, signals and reports on stderr belong to it alone.
import Logging
import Sprout
import SproutHelperSupport

import Glibc

struct Failure: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

func say(_ text: String) {
    print(text)
    fflush(nil)
}

let scenario = CommandLine.arguments.dropFirst().first ?? ""
switch scenario {
case "teardown":
    // Greenlets still running when main returns are killed, their cleanup runs, the loop closes.
    let value = try Hub.run {
        for index in 0..<3 {
            spawn(name: "sleeper-\(index)") {
                defer { say("cleanup \(index)") }
                try await sleep(3600)
            }
        }
        try await sleep(0.05)
        return 42
    }
    say("returned \(value)")
    do {
        _ = try Hub.run { 0 }
        say("second run returned")
    } catch {
        say("second run: \(error)")
    }

case "kill-all-unstarted":
    // Hub.killAll kills greenlets spawned but not started yet (they hold no task until their
    // turn): their bodies never run.
    _ = try Hub.run {
        let greenlets = (0..<3).map { index in spawn { say("started \(index)") } }
        let stuck = try await Hub.killAll()
        say("stuck \(stuck.count), killed \(greenlets.filter { $0.error is GreenletExit }.count)")
        return 0
    }

case "signal":
    // Waits to be sent SIGINT or SIGTERM; teardown runs, then the exit status is 128 + signal.
    _ = try Hub.run {
        for index in 0..<2 {
            spawn {
                defer { say("cleanup \(index)") }
                try await sleep(3600)
            }
        }
        Hub.onShutdown { say("hook ran") }
        try await sleep(0.01)
        say("ready")
        try await sleep(3600)
    }
    say("not reached")

case "block":
    // A greenlet that blocks the hub's thread is reported once, by name.
    Hub.blockingThreshold = 0.1
    try Hub.run {
        let blocker = spawn(name: "sleepy-greenlet") {
            try await sleep(0)
            say("slept \(Int(blockTheHubForTest() * 1000)) ms")
        }
        try await blocker.get()
    }

case "unobserved":
    // An error nobody reads is reported once; one that is read is not reported.
    try Hub.run {
        spawn(name: "forgotten") { () async throws -> Int in
            throw Failure(text: "nobody looked at me")
        }
        let watched = spawn(name: "watched") { () async throws -> Int in
            throw Failure(text: "somebody looked at me")
        }
        do {
            _ = try await watched.get()
        } catch {
            say("caught \(error)")
        }
        try await sleep(0.05)
    }

case "run-logger":
    // Hub.run(logger:) sends the hub's reports to that logger, here one writing stdout.
    try Hub.run(logger: Logger(label: "helper.hub") { StreamLogHandler.standardOutput(label: $0) }) {
        spawn(name: "forgotten") { () async throws -> Int in
            throw Failure(text: "nobody looked at me")
        }
        try await sleep(0.05)
    }

case "loop-exit":
    // A main greenlet waiting with nothing left that could wake it: Hub.run throws LoopExit.
    let shape = CommandLine.arguments.dropFirst(2).first ?? ""
    let started = monotonicNanoseconds()
    do {
        try Hub.run {
            switch shape {
            case "event": try await Event().wait()
            case "queue": _ = try await Queue<Int>().get()
            case "async-result": _ = try await AsyncResult<Int>().get()
            case "join-all":
                let parked = spawn(name: "parked-forever") { try await Event().wait() }
                try await joinAll([parked])
            case "after-switch":
                // The hub ran a turn before the wait: the check is not only made at start.
                try await sleep(0)
                try await Event().wait()
            default: throw Failure(text: "unknown shape \(shape)")
            }
        }
        say("returned")
    } catch let exit as LoopExit {
        say("LoopExit after \((monotonicNanoseconds() - started) / 1_000_000) ms: \(exit)")
    }

case "loop-wakes":
    // Each shape waits on an Event that something still alive sets after 0.2 s: no LoopExit.
    let shape = CommandLine.arguments.dropFirst(2).first ?? ""
    let listener = shape == "socket" ? delayedTCPPeer() : (fd: Int32(-1), port: 0)
    try Hub.run {
        let event = Event()
        switch shape {
        case "timer":
            spawn { try await sleep(0.2); event.set() }
        case "socket":
            // Read on a live connection whose peer (a thread Sprout does not know) writes late.
            spawn {
                let stream = try await TCPStream.connect(host: "127.0.0.1", port: listener.port)
                _ = try await stream.readExactly(1)
                stream.close()
                event.set()
            }
        case "child":
            spawn {
                _ = try await Command("/bin/sleep", arguments: ["0.2"]).output(timeout: 10)
                event.set()
            }
        case "offload":
            spawn {
                _ = try await offloadBlocking { usleep(200_000) }
                event.set()
            }
        case "signal":
            let signals = try Signals([SIGUSR1])
            _ = startDetachedThread { usleep(200_000); kill(getpid(), SIGUSR1) }
            spawn {
                _ = try await signals.wait()
                signals.close()
                event.set()
            }
        default: throw Failure(text: "unknown shape \(shape)")
        }
        try await event.wait()
    }
    say("woken")

case "offload-in-first-turn":
    // The hub thread starts, finds nothing to do and waits for work from other threads; the
    // main greenlet, its first work, starts an offload in that same turn. While the offload
    // runs, the hub thread must sleep in its poll: print the CPU time it used meanwhile.
    _ = LoopExecutor.shared.isHubThread
    usleep(100_000)
    let milliseconds = try Hub.run {
        let before = threadCPUNanoseconds()
        _ = try await offloadBlocking { usleep(500_000) }
        return (threadCPUNanoseconds() - before) / 1_000_000
    }
    say("hub thread CPU during the offload: \(milliseconds) ms")

case "main-throws":
    // The main greenlet's error comes out of Hub.run, and is not also reported.
    do {
        try Hub.run { throw Failure(text: "main failed") }
    } catch {
        say("Hub.run threw \(error)")
    }

case "starved":
    // A greenlet that needs little CPU, on a hub thread that another process keeps from its
    // core: the monitor must say the hub was starved of CPU, not that the program blocked it.
    Hub.blockingThreshold = 0.1
    try Hub.run {
        try await spawn(name: "starved-greenlet") {
            try await sleep(0)
            say(starveTheHubForTest())
        }.get()
    }

case "many":
    // Many greenlets, each finishing with its own value.
    let count = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 100_000
    let sum = try Hub.run {
        let greenlets = (0..<count).map { index in spawn { index } }
        try await joinAll(greenlets)
        return greenlets.reduce(0) { $0 + ($1.value ?? 0) }
    }
    say("sum \(sum) of \(count)")

default:
    print("usage: sprout-test-helper teardown|signal|block|starved|unobserved|main-throws|many")
    exit(2)
}

/// A listening socket on 127.0.0.1 whose one accepted connection gets a byte 0.2 s later,
/// from a thread of its own.
func delayedTCPPeer() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            _ = bind(fd, raw, length)
            _ = getsockname(fd, raw, &length)
        }
    }
    listen(fd, 1)
    _ = startDetachedThread {
        let connection = accept(fd, nil, nil)
        usleep(200_000)
        var byte: UInt8 = 1
        _ = write(connection, &byte, 1)
        usleep(100_000)
        close(connection)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// Holds the hub's thread for 400 ms: the blocking monitor's report must name this function.
/// Returns how long the sleep took (taking the stack must not cut it short); that work after
/// the call also keeps an optimized build from making `usleep` a tail call, which would
/// leave this function out of the stack.
@inline(never)
func blockTheHubForTest() -> Double {
    let start = monotonicNanoseconds()
    usleep(400_000)
    return Double(monotonicNanoseconds() - start) / 1e9
}

/// Keeps the hub's thread from a CPU without its own code blocking: pins it to one core it
/// may use, forks a child that spins on that core for `busy` seconds at the highest priority
/// (nice -20: the hub thread then gets about 1 % of the core), and spins the hub for `work`
/// seconds of its own CPU time, far under the monitor's threshold. Returns "held W ms for
/// C ms of CPU", or "cannot starve: ..." where the machine does not allow it.
func starveTheHubForTest(busy: Double = 0.5, work: Double = 0.02) -> String {
    // Swift's Glibc module leaves out what needs _GNU_SOURCE, the affinity calls among them.
    typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    guard let get = dlsym(dlopen(nil, RTLD_NOW), "sched_getaffinity"),
          let set = dlsym(dlopen(nil, RTLD_NOW), "sched_setaffinity") else { return "cannot starve: no affinity calls" }
    let getAffinity = unsafeBitCast(get, to: Affinity.self), setAffinity = unsafeBitCast(set, to: Affinity.self)
    var original = [UInt8](repeating: 0, count: 128)
    guard getAffinity(0, original.count, &original) == 0,
          let byte = original.firstIndex(where: { $0 != 0 }) else { return "cannot starve: sched_getaffinity \(errno)" }
    var one = [UInt8](repeating: 0, count: 128)
    one[byte] = original[byte] & (~original[byte] &+ 1)
    guard setAffinity(0, one.count, &one) == 0 else { return "cannot starve: sched_setaffinity \(errno)" }
    defer { _ = setAffinity(0, original.count, &original) }
    let start = monotonicNanoseconds()
    let startCPU = threadCPUNanoseconds()
    // The child inherits this thread's one core; it makes nothing but system calls.
    let child = fork()
    if child == 0 {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, -20)
        let end = start + UInt64(busy * 1e9)
        while monotonicNanoseconds() < end {}
        _exit(0)
    }
    guard child > 0 else { return "cannot starve: fork \(errno)" }
    var state: UInt64 = 1
    while threadCPUNanoseconds() - startCPU < UInt64(work * 1e9) {
        for _ in 0..<1_000 { state = state &* 6_364_136_223_846_793_005 &+ 1 }
    }
    var status: Int32 = 0
    _ = waitpid(child, &status, 0)
    if state == 0 { print("") }
    return "held \((monotonicNanoseconds() - start) / 1_000_000) ms for \((threadCPUNanoseconds() - startCPU) / 1_000_000) ms of CPU"
}
