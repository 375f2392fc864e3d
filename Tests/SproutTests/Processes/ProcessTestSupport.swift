import Logging
@testable import Sprout

import Glibc

/// The pool worker program of the tests.
let workerExecutable = builtExecutable("sprout-test-worker")

/// The fields of a `/proc/.../stat` file after the command name (state first), or `nil`
/// if it cannot be read.
private func statFields(_ path: String) -> [Substring]? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, 512, file) != nil else { return nil }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = line.lastIndex(of: ")") else { return nil }
    return line[line.index(after: close)...].split(separator: " ")
}

/// True while process `pid` exists and is not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard let state = statFields("/proc/\(pid)/stat")?.first else { return false }
    return state != "Z" && state != "X"
}

/// The parent of process `pid`, or -1 if it cannot be read.
func parentPID(_ pid: Int32) -> Int32 {
    // The parent is field 4 of the file, 2 after the command name.
    statFields("/proc/\(pid)/stat").flatMap { $0.count > 1 ? Int32($0[1]) : nil } ?? -1
}

/// The processes that are this process's children in process group `group`, zombies
/// included (a fork server's group holds its spares).
func children(inGroup group: Int32) -> [Int32] {
    guard let directory = opendir("/proc") else { return [] }
    defer { closedir(directory) }
    var found: [Int32] = []
    let parent = getpid()
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        // The parent and the group are fields 4 and 5 of the file, 2 and 3 after the command name.
        guard let pid = Int32(name), let fields = statFields("/proc/\(pid)/stat"), fields.count > 2,
              Int32(fields[1]) == parent, Int32(fields[2]) == group else { continue }
        found.append(pid)
    }
    return found
}

/// The names in /dev/shm that `pid` could have made (`sprout-<pid>-<serial>`, what shared
/// memory was named before it became a memfd: a check that none comes back), or every name
/// there if `pid` is `nil`.
func sharedMemoryNames(of pid: Int32? = nil) -> Set<String> {
    guard let directory = opendir("/dev/shm") else { return [] }
    defer { closedir(directory) }
    var names: Set<String> = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if pid.map({ name.hasPrefix("sprout-\($0)-") }) ?? true { names.insert(name) }
    }
    return names
}

/// CPU time (user + system, in clock ticks) that the process or thread whose `stat` file
/// is at `path` has used; 0 if it cannot be read.
func cpuTicks(_ path: String) -> Int {
    guard let fields = statFields(path), fields.count > 12 else { return 0 }
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the command name.
    return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
}

/// The live children of process `pid`.
func childPIDs(of pid: Int32) -> [Int32] {
    // The parent is field 4 of the file, 2 after the command name.
    liveProcesses { $0.count > 1 && Int32($0[1]) == pid }
}

/// The live processes of process group `group`.
func processes(inGroup group: Int32) -> [Int32] {
    // The group is field 5 of the file, 3 after the command name.
    liveProcesses { $0.count > 2 && Int32($0[2]) == group }
}

/// The live processes whose `stat` fields after the command name satisfy `matches`.
private func liveProcesses(_ matches: ([Substring]) -> Bool) -> [Int32] {
    guard let directory = opendir("/proc") else { return [] }
    defer { closedir(directory) }
    var found: [Int32] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let pid = Int32(name), let fields = statFields("/proc/\(name)/stat"), matches(fields), isAlive(pid) {
            found.append(pid)
        }
    }
    return found
}

/// The path of the program process `pid` runs (`/proc/PID/exe`); nil once it is gone.
func executablePath(of pid: Int32) -> String? {
    var target = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/\(pid)/exe", &target, target.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// What each open descriptor of process `pid` refers to ("socket:[123]", a path), by number.
func descriptorTargets(of pid: Int32) -> [Int32: String] {
    guard let directory = opendir("/proc/\(pid)/fd") else { return [:] }
    defer { closedir(directory) }
    var targets: [Int32: String] = [:]
    var target = [CChar](repeating: 0, count: 256)
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let length = readlink("/proc/\(pid)/fd/" + name, &target, target.count - 1)
        if let fd = Int32(name), length > 0 {
            targets[fd] = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
    return targets
}

/// Waits up to `seconds` for every pid to be gone; returns those still alive.
@Hub
func survivors(_ pids: [Int32], within seconds: Double = 5) async throws -> [Int32] {
    let deadline = monotonicNanoseconds() + nanoseconds(seconds)
    while true {
        let alive = pids.filter(isAlive)
        if alive.isEmpty || monotonicNanoseconds() > deadline { return alive }
        try await sleep(0.02)
    }
}

/// Makes a pool of the test worker, runs `body`, terminates the pool and returns every
/// pid it started that is still alive afterwards (none, when all is well).
@Hub
func withTestPool(
    workers: Int = 2,
    maxTasksPerWorker: Int? = nil,
    initializer: (any ProcessJob)? = nil,
    logger: Logger? = nil,
    _ body: @Hub (ProcessPool) async throws -> Void
) async throws -> [Int32] {
    let pool = try await ProcessPool(workers: workers, executable: workerExecutable,
                                      maxTasksPerWorker: maxTasksPerWorker, initializer: initializer,
                                      killGrace: 0.2, logger: logger)
    do {
        try await body(pool)
    } catch {
        await pool.terminate()
        throw error
    }
    await pool.terminate()
    return try await survivors(pool.spawnedPIDs)
}

/// A program started by a test, with its standard output readable line by line.
@Hub
final class TestProgram {
    let child: SpawnedChild
    private let output: Int32
    private let watcher: FDWatcher
    private var buffer: [UInt8] = []

    init(_ executable: String, _ arguments: [String]) throws {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw HubError(code: -errno, operation: "socketpair")
        }
        var spec = ChildSpec(executable: executable)
        spec.arguments = arguments
        spec.stdio = [.ignore, .inherit(pair[1]), .inherit(2)]
        child = try SpawnedChild(spec)
        close(pair[1])
        output = pair[0]
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        watcher = try FDWatcher(fd: output)
    }

    /// The next line of output, or `nil` at its end or after `timeout` seconds.
    func readLine(timeout: Double) async throws -> String? {
        let deadline = monotonicNanoseconds() + nanoseconds(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer += chunk[0..<count]
                continue
            }
            if count == 0 { return nil }
            let now = monotonicNanoseconds()
            guard now < deadline else { return nil }
            _ = try await watcher.waitReadable(timeout: Double(deadline - now) / 1e9)
        }
    }

    func finish() {
        watcher.close()
        close(output)
    }
}
