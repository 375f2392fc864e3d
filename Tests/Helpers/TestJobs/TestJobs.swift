import Sprout

import Glibc

/// Every job type the test worker serves.
public let testJobs: [any ProcessJob.Type] = codableParityJobs + [
    Square.self, Fail.self, Nap.self, BusyLoop.self, Die.self, CorruptChannel.self,
    HubNap.self, WhoAmI.self, SlowSquare.self, Increment.self, FillSquares.self, ShoutBack.self, PipeDoubler.self, QueueProducer.self, QueueSummer.self, DictionaryWriter.self, DieFirstTime.self, Bytes.self, ByteSum.self, HalfFrame.self, SetMarker.self, ReadMarker.self, NestedPool.self,
    RecordRun.self, Misbehave.self, UndecodableResult.self, ReadPassedNumber.self, ListAppender.self, SharedCounter.self,
    DieHolding.self, WaitForEvent.self, WaitAtBarrier.self, RecordOrDie.self, ParentPID.self, FirstArgument.self,
    SquareOrFail.self, RunTime.self, ClockedNap.self, TextOrFail.self, EvenOrFail.self, EchoText.self, Same.self,
    ThrowsDecodingError.self, DieTimes.self,
]

/// n².
public struct Square: ProcessJob {
    public var n: Int
    public init(_ n: Int) { self.n = n }
    public func run() -> Int { n * n }
}

/// An error that crosses the channel as a value.
public struct TestJobError: Error, Codable, Equatable {
    public var code: Int
    public init(code: Int) { self.code = code }
}

/// n², after spinning for `micros` microseconds (CPU work of a known length).
public struct SlowSquare: ProcessJob {
    public var n: Int
    public var micros: Int
    public init(_ n: Int, micros: Int) { self.n = n; self.micros = micros }
    public func run() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let end = now.tv_sec * 1_000_000 + now.tv_nsec / 1000 + micros
        while now.tv_sec * 1_000_000 + now.tv_nsec / 1000 < end { clock_gettime(CLOCK_MONOTONIC, &now) }
        return n * n
    }
}

/// n², or, for a negative n, throws ``TestJobError`` with code n: one job type whose
/// outcomes differ within a map's chunk.
public struct SquareOrFail: ProcessJob {
    public var n: Int
    public init(_ n: Int) { self.n = n }
    public func run() throws -> Int {
        if n < 0 { throw TestJobError(code: n) }
        return n * n
    }
}

/// A text for `n` (plain, non-ASCII, or one that JSON must escape, by `n % 3`); throws
/// ``TestJobError`` for a negative `n`.
public struct TextOrFail: ProcessJob {
    public var n: Int
    public init(_ n: Int) { self.n = n }
    public static func text(_ n: Int) -> String { ["plain \(n)", "é✓ \(n)", "quote \" tab \t \(n)"][n % 3] }
    public func run() throws -> String {
        if n < 0 { throw TestJobError(code: n) }
        return Self.text(n)
    }
}

/// Throws a `DecodingError` from `run()`: a failure of the job, not of decoding it.
public struct ThrowsDecodingError: ProcessJob {
    public init() {}
    public func run() throws -> Int {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "thrown by run()"))
    }
}

/// Returns `text`; or, if `fails`, throws an error whose description is `text`; or, if
/// `crashes`, writes `text` to standard error and exits 3: outcomes holding what a database
/// may refuse to store (U+0000).
public struct EchoText: ProcessJob {
    public var text: String
    public var fails: Bool
    public var crashes: Bool
    public init(_ text: String, fails: Bool = false, crashes: Bool = false) {
        self.text = text
        self.fails = fails
        self.crashes = crashes
    }

    struct Thrown: Error, CustomStringConvertible {
        let description: String
    }

    public func run() throws -> String {
        if crashes {
            let line = Array((text + "\n").utf8)
            _ = write(2, line, line.count)
            exit(3)
        }
        if fails { throw Thrown(description: text) }
        return text
    }
}

/// `n` itself: an `Int` output of any sign and length.
public struct Same: ProcessJob {
    public var n: Int
    public init(_ n: Int) { self.n = n }
    public func run() -> Int { n }
}

/// Whether `n` is even; throws ``TestJobError`` for a negative `n`.
public struct EvenOrFail: ProcessJob {
    public var n: Int
    public init(_ n: Int) { self.n = n }
    public func run() throws -> Bool {
        if n < 0 { throw TestJobError(code: n) }
        return n % 2 == 0
    }
}

/// Throws ``TestJobError``.
public struct Fail: ProcessJob {
    public var code: Int
    public init(code: Int) { self.code = code }
    public func run() throws -> Int { throw TestJobError(code: code) }
}

/// Blocks its worker for a while (a plain blocking sleep, as CPU work would).
public struct Nap: ProcessJob {
    public var seconds: Double
    public init(seconds: Double) { self.seconds = seconds }
    public func run() -> Double {
        usleep(UInt32(seconds * 1e6))
        return seconds
    }
}

/// Spins forever, ignoring SIGTERM, so only SIGKILL ends it.
public struct BusyLoop: ProcessJob {
    public init() {}
    public func run() -> Int {
        signal(SIGTERM, SIG_IGN)
        var counter = 0
        while true { counter &+= 1; if counter == -1 { break } }
        return counter
    }
}

/// Writes a line to stderr, then ends the worker: with `signal` if given, else `exit(code)`.
public struct Die: ProcessJob {
    public var signal: Int32?
    public var code: Int32
    public init(signal: Int32? = nil, code: Int32 = 3) { self.signal = signal; self.code = code }
    public func run() -> Int {
        let line = "dying on purpose\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        if let signal { raise(signal) }
        exit(code)
    }
}

/// Writes garbage into the worker's channel, then waits.
public struct CorruptChannel: ProcessJob {
    public init() {}
    public func run() -> Int {
        let garbage: [UInt8] = [5, 0, 0, 0, 99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9]
        _ = garbage.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
        sleep(30)
        return 0
    }
}

/// Sleeps on the worker's own hub (an async job), then returns `value`.
public struct HubNap: ProcessJob {
    public var value: Int
    public init(value: Int) { self.value = value }
    public func run() async throws -> Int {
        try await Sprout.sleep(0.01)
        return value
    }
}

/// The machine's monotonic clock (ns) when it ran: the order jobs ran in, across processes.
public struct RunTime: ProcessJob {
    public var label: Int
    public init(_ label: Int) { self.label = label }
    public func run() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }
}

/// Blocks its worker for `seconds` and returns when it started and ended, in microseconds
/// since the epoch: the clock of PostgreSQL's `now()`, so a queue test can tell how many
/// jobs a host held (claimed, not yet ended) at the moment of each claim.
public struct ClockedNap: ProcessJob {
    public struct Span: Codable, Sendable {
        public var started: Int
        public var ended: Int
    }

    public var seconds: Double
    public init(seconds: Double) { self.seconds = seconds }
    public func run() -> Span {
        let started = Self.microseconds()
        usleep(UInt32(seconds * 1e6))
        return Span(started: started, ended: Self.microseconds())
    }

    private static func microseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec * 1_000_000 + now.tv_nsec / 1000
    }
}

/// The worker's pid, after a pause of `pause` seconds.
public struct WhoAmI: ProcessJob {
    public var pause: Double
    public init(pause: Double = 0) { self.pause = pause }
    public func run() -> Int32 {
        if pause > 0 { usleep(UInt32(pause * 1e6)) }
        return getpid()
    }
}

/// The worker's parent's pid: the pool's process (also for a worker a fork server forked).
public struct ParentPID: ProcessJob {
    public init() {}
    public func run() -> Int32 { getppid() }
}

/// The worker's first command-line argument after the program's name, "-" if none: a
/// worker forked from the program's early fork server has the program's own, one started
/// again has none.
public struct FirstArgument: ProcessJob {
    public init() {}
    public func run() -> String { CommandLine.arguments.dropFirst().first ?? "-" }
}

nonisolated(unsafe) private var marker = ""

/// Sets a per-worker value (used as a pool initializer).
public struct SetMarker: ProcessJob {
    public var value: String
    public init(value: String) { self.value = value }
    public func run() -> Bool { marker = value; return true }
}

/// Reads what ``SetMarker`` set.
public struct ReadMarker: ProcessJob {
    public init() {}
    public func run() -> String { marker }
}

/// Tries to build a pool inside a worker.
public struct NestedPool: ProcessJob {
    public init() {}
    public func run() async throws -> Int {
        let pool = try await ProcessPool(workers: 1)
        return pool.size
    }
}

/// Adds 1 to a shared number `times` times under its lock; with `dieHolding`, then takes
/// the lock and is killed by SIGKILL while holding it.
public struct Increment: ProcessJob {
    public var value: SharedValue<Int64>
    public var times: Int
    public var dieHolding: Bool
    public init(value: SharedValue<Int64>, times: Int, dieHolding: Bool = false) {
        self.value = value
        self.times = times
        self.dieHolding = dieHolding
    }
    public func run() -> Int {
        for _ in 0..<times {
            value.withLock { number, _ in number += 1 }
        }
        if dieHolding {
            value.lock.lock()
            raise(SIGKILL)
        }
        return times
    }
}

/// Writes index² into every slot of a shared array.
public struct FillSquares: ProcessJob {
    public var array: SharedArray<Double>
    public init(array: SharedArray<Double>) { self.array = array }
    public func run() -> Int {
        array.withLock { buffer, _ in
            for index in buffer.indices { buffer[index] = Double(index * index) }
        }
        return array.count
    }
}

/// Reads one line from a connection it was handed and writes it back in capitals: the
/// server-hands-connections-to-workers pattern.
public struct ShoutBack: ProcessJob {
    public var connection: PassedDescriptor
    public init(connection: PassedDescriptor) { self.connection = connection }
    public func run() throws -> Int {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(connection.fd, &byte, 1) == 1 {
            line.append(byte)
            if byte == 10 { break }
        }
        let reply = Array(String(decoding: line, as: UTF8.self).uppercased().utf8)
        _ = reply.withUnsafeBytes { write(connection.fd, $0.baseAddress, $0.count) }
        return reply.count
    }
}

/// Receives `count` numbers on a pipe end and sends each back doubled.
public struct PipeDoubler: ProcessJob {
    public var pipe: ProcessPipe<Int>
    public var count: Int
    public init(pipe: ProcessPipe<Int>, count: Int) { self.pipe = pipe; self.count = count }
    public func run() async throws -> Int {
        for _ in 0..<count {
            guard let value = try await pipe.receive(timeout: 10) else { return -1 }
            try await pipe.send(value * 2)
        }
        return count
    }
}

/// Puts `from..<from+count` on a queue.
public struct QueueProducer: ProcessJob {
    public var queue: ProcessQueue<Int>
    public var from: Int
    public var count: Int
    public init(queue: ProcessQueue<Int>, from: Int, count: Int) { self.queue = queue; self.from = from; self.count = count }
    public func run() async throws -> Int {
        for value in from..<(from + count) { try await queue.put(value) }
        return count
    }
}

/// Takes `count` numbers from a queue and returns their sum.
public struct QueueSummer: ProcessJob {
    public var queue: ProcessQueue<Int>
    public var count: Int
    public init(queue: ProcessQueue<Int>, count: Int) { self.queue = queue; self.count = count }
    public func run() async throws -> Int {
        var sum = 0
        for _ in 0..<count {
            sum += try await queue.get(timeout: 10)
        }
        return sum
    }
}

/// Writes `prefix-i = i` for `count` keys into a shared dictionary, then returns the value
/// the parent stored under `"parent"` (or -1).
public struct DictionaryWriter: ProcessJob {
    public var dictionary: SharedDictionary<String, Int>
    public var prefix: String
    public var count: Int
    public init(dictionary: SharedDictionary<String, Int>, prefix: String, count: Int) {
        self.dictionary = dictionary
        self.prefix = prefix
        self.count = count
    }
    public func run() async throws -> Int {
        for index in 0..<count { try await dictionary.set("\(prefix)-\(index)", index) }
        guard try await dictionary.get("\(prefix)-0") == 0 else { return -2 }
        try await dictionary.remove("\(prefix)-0")
        return try await dictionary.get("parent") ?? -1
    }
}

/// Kills its worker with SIGKILL the first time it runs (counted in shared memory), and
/// returns the number of attempts afterwards.
public struct DieFirstTime: ProcessJob {
    public var attempts: SharedValue<Int64>
    public init(attempts: SharedValue<Int64>) { self.attempts = attempts }
    public func run() -> Int64 {
        let attempt = attempts.withLock { (value: inout Int64, _: Bool) -> Int64 in
            value += 1
            return value
        }
        if attempt == 1 { raise(SIGKILL) }
        return attempt
    }
}

/// Dies (SIGKILL) on its first `times` runs and returns its run's number after: each run
/// appends a byte to the file at `path`, so the count outlives the processes it kills (and
/// works across hosts on one machine, where ``DieFirstTime``'s shared memory cannot go).
public struct DieTimes: ProcessJob {
    public var path: String
    public var times: Int
    public init(path: String, times: Int) { self.path = path; self.times = times }
    public func run() -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        _ = write(fd, "x", 1)
        var info = stat()
        fstat(fd, &info)
        close(fd)
        let run = Int(info.st_size)
        if run <= times { raise(SIGKILL) }
        return run
    }
}

/// `count` bytes counting up from 0 (wrapping): a raw binary output.
public struct Bytes: ProcessJob {
    public var count: Int
    public init(count: Int) { self.count = count }
    public func run() -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0) } }
}

/// The sum of a large input: a job bigger than the socket's buffer.
public struct ByteSum: ProcessJob {
    public var data: [UInt8]
    public init(data: [UInt8]) { self.data = data }
    public func run() -> Int { data.reduce(0) { $0 + Int($1) } }
}

/// Writes the start of a frame into the worker's channel and exits mid-frame.
public struct HalfFrame: ProcessJob {
    public init() {}
    public func run() -> Int {
        let start: [UInt8] = [100, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]
        _ = start.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
        exit(0)
    }
}

/// Counts its run at `runs[id]` (unless `id` is negative), spins for `spinMicroseconds`
/// and returns `id * 3`: the chaos test's job, which proves no job runs twice.
public struct RecordRun: ProcessJob {
    public var id: Int
    public var runs: SharedArray<Int32>
    public var spinMicroseconds: Int
    public init(id: Int, runs: SharedArray<Int32>, spinMicroseconds: Int) {
        self.id = id
        self.runs = runs
        self.spinMicroseconds = spinMicroseconds
    }
    public func run() -> Int {
        // A count left half-done by a killed holder is still one whole store: nothing to repair.
        if id >= 0 { runs.withLock { buffer, _ in buffer[id] += 1 } }
        _ = SlowSquare(0, micros: spinMicroseconds).run()
        return id &* 3
    }
}

/// Counts its run at `runs[id]`, then, when `die` is set, kills its own worker with
/// SIGKILL; returns `id`.
public struct RecordOrDie: ProcessJob {
    public var id: Int
    public var runs: SharedArray<Int32>
    public var die: Bool
    public init(id: Int, runs: SharedArray<Int32>, die: Bool = false) {
        self.id = id
        self.runs = runs
        self.die = die
    }
    public func run() -> Int {
        runs.withLock { buffer, _ in buffer[id] += 1 }
        if die { raise(SIGKILL) }
        return id
    }
}

/// Breaks the wire protocol from inside a job, one way per ``Mode``, then waits to be killed.
public struct Misbehave: ProcessJob {
    /// How the job breaks the protocol.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// A frame header announcing 4 GiB.
        case hugeLength
        /// A frame of a kind that does not exist.
        case unknownKind
        /// An answer for a job id the worker was never sent.
        case answerForAnotherJob
        /// A result for this very job whose bytes are not JSON.
        case badJSONResult
        /// Chunk outcomes for this job announcing more outcomes than their bytes hold.
        case chunkCountLie
        /// Chunk outcomes whose one outcome announces more bytes than follow.
        case chunkLengthLie
        /// Chunk outcomes with an outcome tag that is neither result nor failure.
        case chunkUnknownTag
    }
    public var mode: Mode
    public init(_ mode: Mode) { self.mode = mode }
    public func run() -> Int {
        let id: [UInt8] = [0x77, 0x77, 0, 0, 0, 0, 0, 0]
        let running = (0..<8).map { UInt8(truncatingIfNeeded: WorkerEnvironment.runningJobID >> (8 * $0)) }
        let frame: [UInt8] = switch mode {
        case .hugeLength: [0xFF, 0xFF, 0xFF, 0xFF, 3] + id
        case .unknownKind: [1, 0, 0, 0, 99] + id + [0x31]
        case .answerForAnotherJob: [1, 0, 0, 0, 3] + id + [0x31]
        case .badJSONResult: [2, 0, 0, 0, 3] + running + Array("{x".utf8)
        // Payloads `u32 count | u8 tag | u32 length | bytes`, each with one lie.
        case .chunkCountLie: [10, 0, 0, 0, 8] + running + [5, 0, 0, 0] + [0, 1, 0, 0, 0, 0x31]
        case .chunkLengthLie: [10, 0, 0, 0, 8] + running + [1, 0, 0, 0] + [0, 100, 0, 0, 0, 0x31]
        case .chunkUnknownTag: [10, 0, 0, 0, 8] + running + [1, 0, 0, 0] + [7, 1, 0, 0, 0, 0x31]
        }
        _ = frame.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
        sleep(30)
        return 0
    }
}

/// An output that encodes but does not decode: the parent reads an answer it cannot use.
public struct Undecodable: Codable, Sendable {
    public init() {}
    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Undecodable never decodes"))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("undecodable")
    }
}

/// Returns an ``Undecodable``.
public struct UndecodableResult: ProcessJob {
    public init() {}
    public func run() -> Undecodable { Undecodable() }
}

/// Appends `values` one by one to a shared list, then extends it with their negatives;
/// returns the list's count as the worker saw it.
public struct ListAppender: ProcessJob {
    public var list: SharedList<Int>
    public var values: [Int]
    public init(list: SharedList<Int>, values: [Int]) { self.list = list; self.values = values }
    public func run() async throws -> Int {
        for value in values { try await list.append(value) }
        try await list.append(contentsOf: values.map { -$0 })
        return try await list.count
    }
}

/// Adds 1, `times` times, to the dictionary's `key` and to the list's first element, each
/// by an atomic update.
public struct SharedCounter: ProcessJob {
    public var dictionary: SharedDictionary<String, Int>
    public var list: SharedList<Int>
    public var key: String
    public var times: Int
    public init(dictionary: SharedDictionary<String, Int>, list: SharedList<Int>, key: String, times: Int) {
        self.dictionary = dictionary; self.list = list; self.key = key; self.times = times
    }
    public func run() async throws -> Int {
        for _ in 0..<times {
            try await dictionary.update(key) { $0 = ($0 ?? 0) + 1 }
            try await list.update { $0[0] += 1 }
        }
        return times
    }
}

/// Takes the RLock (twice: it is re-entrant) and a slot of the semaphore, then kills its
/// own process with SIGKILL, holding them.
public struct DieHolding: ProcessJob {
    public var rlock: ProcessRLock
    public var semaphore: ProcessSemaphore
    public init(rlock: ProcessRLock, semaphore: ProcessSemaphore) { self.rlock = rlock; self.semaphore = semaphore }
    public func run() async throws -> Int {
        try await rlock.acquire()
        try await rlock.acquire()
        try await semaphore.acquire()
        kill(getpid(), SIGKILL)
        return 0
    }
}

/// Waits for the event; returns whether it was set within `timeout`.
public struct WaitForEvent: ProcessJob {
    public var event: ProcessEvent
    public var timeout: Double
    public init(event: ProcessEvent, timeout: Double) { self.event = event; self.timeout = timeout }
    public func run() async throws -> Bool { try await event.wait(timeout: timeout) }
}

/// Waits at the barrier; returns its arrival index.
public struct WaitAtBarrier: ProcessJob {
    public var barrier: ProcessBarrier
    public init(barrier: ProcessBarrier) { self.barrier = barrier }
    public func run() async throws -> Int { try await barrier.wait(timeout: 30) }
}

/// Reads the number written into the socket it was handed: which job's descriptor arrived.
public struct ReadPassedNumber: ProcessJob {
    public var descriptor: PassedDescriptor
    public init(descriptor: PassedDescriptor) { self.descriptor = descriptor }
    public func run() -> Int {
        var number = -1
        _ = read(descriptor.fd, &number, MemoryLayout<Int>.size)
        return number
    }
}
