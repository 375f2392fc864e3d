import Sprout
import SproutTestJobs

import Glibc

// A test makes workers that cannot start: while the file SPROUT_TEST_START_GATE names
// exists, a worker exits with code 3 before serving; if the file starts with "trap" it
// traps instead; if it starts with "pool" it does what a program without serveIfWorker
// does: its main makes a pool inside the worker.
if getenv("SPROUT_WORKER_FD") != nil, let gate = getenv("SPROUT_TEST_START_GATE"), access(gate, F_OK) == 0 {
    if let file = fopen(gate, "r") {
        let first = fgetc(file)
        fclose(file)
        if first == Int32(UInt8(ascii: "t")) { fatalError("sprout-test-worker: trapping at start-up") }
        if first == Int32(UInt8(ascii: "p")) {
            try Hub.run { _ = try await ProcessPool(workers: 1) }
        }
    }
    let message = "sprout-test-worker: start gate closed\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(3)
}
try ProcessPool.serveIfWorker(jobs: testJobs)

// Run directly (not as a worker), it is a parent for whole-process checks:
// `pool-parent` starts two workers, gives one a job that never ends, prints
// "pids A B" and waits to be signalled or killed.
// `child-parent` starts a non-daemon child napping 0.5 s and a daemon child napping 30 s,
// prints "pids A B" and returns: the first is waited for, the second terminated.
// `idle-pool` runs 300 round trips on a 1-worker pool, then prints the CPU time (µs) its
// hub thread used over 0.6 s idle and while a 0.6 s job ran: "hub-cpu-us IDLE WAITING".
// `progress-map` maps 12 slow squares, then 3 failing jobs, then 8 naps on a greenlet Pool,
// each with a ProgressLine.
if CommandLine.arguments.dropFirst().first == "progress-map" {
    try Hub.run {
        let pool = try await ProcessPool(workers: 2)
        let squares = ProgressLine(label: "squares")
        _ = try await pool.map((0..<12).map { SlowSquare($0, micros: 20_000) }, chunkSize: 1, progress: squares.update)
        let failures = ProgressLine(label: "fails")
        for try await _ in pool.mapResults((0..<3).map { Fail(code: $0) }, chunkSize: 1, progress: failures.update) {}
        let greenlets = ProgressLine(label: "greenlets")
        _ = try await Pool(size: 4).map(0..<8, progress: greenlets.update) { n in try await sleep(0.02) }
        await pool.terminate()
    }
}
// `cpu-count` prints "cpus N", N being ProcessPool.cpuCount.
if CommandLine.arguments.dropFirst().first == "cpu-count" {
    print("cpus \(ProcessPool.cpuCount)")
}
if CommandLine.arguments.dropFirst().first == "child-parent" {
    try Hub.run {
        let waited = ChildProcess(Nap(seconds: 0.5))
        let daemon = ChildProcess(Nap(seconds: 30), daemon: true, killGrace: 0.2)
        try waited.start()
        try daemon.start()
        print("pids \(waited.pid!) \(daemon.pid!)")
        fflush(nil)
    }
}
// `fork-server-parents` runs two jobs on a 2-worker pool and prints "parents P A B C D": this
// program's pid, the parent pid each job found, and each worker's first argument ("-" if
// none; a worker forked from the early fork server has this program's own).
if CommandLine.arguments.dropFirst().first == "fork-server-parents" {
    try Hub.run {
        let pool = try await ProcessPool(workers: 2)
        let parents = try await pool.map([ParentPID(), ParentPID()], chunkSize: 1)
        let arguments = try await pool.map([FirstArgument(), FirstArgument()], chunkSize: 1)
        print("parents \(getpid()) " + (parents.map(String.init) + arguments).joined(separator: " "))
        fflush(nil)
        await pool.terminate()
    }
}
if CommandLine.arguments.dropFirst().first == "pool-parent" {
    try Hub.run {
        let pool = try await ProcessPool(workers: 2)
        let busy = try pool.submit(BusyLoop())
        busy.markObserved()
        print("pids " + pool.workerPIDs.map(String.init).joined(separator: " "))
        fflush(nil)
        try await sleep(3600)
    }
}
// `trap-then exit|cancel|timeout` gives a 1-worker pool a job that traps and prints
// "worker W"; `exit` and `cancel` then wait for SIGUSR1 (the test sends it while the worker's
// crash backtracer runs) and return from Hub.run at once or cancel the job first; `timeout`
// waits for the job's 0.3 s timeout. Each ends right after its worker is killed mid-backtrace.
if CommandLine.arguments.dropFirst().first == "trap-then" {
    let mode = CommandLine.arguments.dropFirst(2).first ?? "exit"
    try Hub.run {
        let pool = try await ProcessPool(workers: 1)
        let trap = try pool.submit(Die(signal: SIGILL), timeout: mode == "timeout" ? 0.3 : nil)
        trap.markObserved()
        print("worker " + pool.workerPIDs.map(String.init).joined(separator: " "))
        fflush(nil)
        if mode != "timeout" { _ = try await Signals.wait(for: SIGUSR1) }
        if mode == "cancel" { trap.cancel() }
        if mode != "exit" { _ = try? await trap.get() }
    }
}
// `failed-start` makes a 2-worker pool whose workers, started by running this program
// again, exit before serving (their start gate closed), prints "start failed" when that
// throws, and ends at once: the last replacement may still be starting then.
if CommandLine.arguments.dropFirst().first == "failed-start" {
    let gate = "/tmp/sprout-failed-start-\(getpid())"
    close(open(gate, O_CREAT | O_WRONLY, 0o600))
    defer { unlink(gate) }
    setenv("SPROUT_TEST_START_GATE", gate, 1)
    try Hub.run {
        do {
            _ = try await ProcessPool(workers: 2, start: .spawn)
            print("started")
        } catch {
            print("start failed")
        }
    }
}
// `shared-array` makes a SharedArray [1, 2, 3], prints "region " and its encoded name, and
// waits to be killed. `shared-array-churn` prints "churning", then makes SharedArrays
// until it is killed, each freed once the next is made: a kill lands at any moment of a
// region's life (being made, in use, being freed), with one or two alive. Both exit once
// the test that started them is gone (their parent changed), killed or not.
if CommandLine.arguments.dropFirst().first == "shared-array" {
    let test = getppid()
    let array = try SharedArray<Int64>([1, 2, 3])
    print("region " + String(decoding: try JSONProcessCoder().encode(array), as: UTF8.self))
    fflush(nil)
    while getppid() == test { usleep(100_000) }
    exit(1)
}
if CommandLine.arguments.dropFirst().first == "shared-array-churn" {
    let test = getppid()
    print("churning")
    fflush(nil)
    var held = try SharedArray<Int64>(repeating: 7, count: 1000)
    while getppid() == test { held = try SharedArray<Int64>(repeating: held[0], count: 1000) }
    exit(1)
}
if CommandLine.arguments.dropFirst().first == "idle-pool" {
    try Hub.run {
        let pool = try await ProcessPool(workers: 1)
        for value in 0..<300 { _ = try await pool.run(Square(value)) }
        let idleStart = threadCPUMicroseconds()
        try await sleep(0.6)
        let idle = threadCPUMicroseconds() - idleStart
        let slow = try pool.submit(Nap(seconds: 0.6))
        try await sleep(0.05)
        let waitStart = threadCPUMicroseconds()
        _ = try await slow.get(timeout: 5)
        let waiting = threadCPUMicroseconds() - waitStart
        print("hub-cpu-us \(idle) \(waiting)")
        fflush(nil)
        await pool.terminate()
    }
}

/// The CPU time the calling thread has used, in µs (on the hub: the hub thread's).
func threadCPUMicroseconds() -> Int {
    var usage = rusage()
    // RUSAGE_THREAD (1) is defined only with _GNU_SOURCE, which Swift's Glibc module leaves out.
    getrusage(__rusage_who_t(1), &usage)
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
}

