import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

/// A listening socket on 127.0.0.1 and a client connected to it, non-blocking.
@Hub
private func connectedPair() async throws -> (listener: Int32, client: Int32, server: Int32) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            guard bind(listener, raw, length) == 0, listen(listener, 8) == 0,
                  getsockname(listener, raw, &length) == 0 else {
                throw HubError(code: -errno, operation: "listen on 127.0.0.1")
            }
        }
    }
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    _ = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
    }
    let watcher = try FDWatcher(fd: listener)
    defer { watcher.close() }
    guard try await watcher.waitReadable(timeout: 5) else { throw Timeout(seconds: 5) }
    let server = accept(listener, nil, nil)
    _ = fcntl(server, F_SETFD, FD_CLOEXEC)
    guard server >= 0 else { throw HubError(code: -errno, operation: "accept") }
    return (listener, client, server)
}

@Suite("PassedDescriptor", .heavy)
struct PassedDescriptorTests {
    /// 10,000 jobs each carrying a socket opened lazily by the input sequence: more
    /// descriptors than the passing channel holds, so sends must queue rather than block
    /// the hub (a blocked hub stops reading answers, and a worker blocked writing them
    /// stops taking descriptors). Each job reads the number written into its own pipe.
    /// Pulling the input (a socketpair per job), encoding it (a `dup` per descriptor) and
    /// handing over answers are done in slices of a few ms per hub turn: the hub's thread
    /// never works 25 ms without a 1 ms timer getting its turn (it did 60-100 ms at once
    /// before, debug build), and the timer's wall-clock gap, which the machine's load
    /// stretches, stays under a quarter second.
    @Test(.heavy(timeLimit: .seconds(120)))
    func tenThousandJobsWithDescriptorsNeverBlockTheHub() async throws {
        let count = 10_000 * testScale
        let left = try await onHub(seconds: 100) {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let opened = OpenedDescriptors()
                let jobs = (0..<count).lazy.map { index -> ReadPassedNumber in
                    var ends: [Int32] = [-1, -1]
                    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0,
                                 "socketpair: \(errno)")
                    var number = index
                    _ = write(ends[1], &number, MemoryLayout<Int>.size)
                    close(ends[1])
                    opened.fds.append(ends[0])
                    return ReadPassedNumber(descriptor: PassedDescriptor(ends[0]))
                }
                let ticker = HubTicker()
                let ticking = spawn { try await ticker.run() }
                let numbers = try await pool.map(jobs)
                ticker.stopped = true
                try await ticking.get(timeout: 5)
                for fd in opened.fds { close(fd) }
                #expect(numbers == Array(0..<count), "every job read its own socket")
                print("PassedDescriptor map of \(count): longest hub gap \(Int(ticker.longestGap * 1e3)) ms, longest hub work between ticks \(Int(ticker.longestBusy * 1e3)) ms")
                #expect(ticker.longestBusy < slack(0.025), "the hub worked \(ticker.longestBusy) s at once")
                #expect(ticker.longestGap < slack(0.25), "the hub stopped for \(ticker.longestGap) s")
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aConnectionIsHandedToAWorker() async throws {
        let left = try await onHub {
            try await withTestPool(workers: 2) { (pool: ProcessPool) async throws in
                let (listener, client, server) = try await connectedPair()
                defer { close(listener); close(client) }
                let handle = try pool.submit(ShoutBack(connection: PassedDescriptor(server)))
                // The job holds its own duplicate: the parent's copy can go at once.
                close(server)
                let request = Array("hello worker\n".utf8)
                #expect(request.withUnsafeBytes { write(client, $0.baseAddress, $0.count) } == request.count)
                let watcher = try FDWatcher(fd: client)
                defer { watcher.close() }
                var reply: [UInt8] = []
                while !reply.contains(10) {
                    guard try await watcher.waitReadable(timeout: 10) else { break }
                    var chunk = [UInt8](repeating: 0, count: 256)
                    let count = chunk.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                    if count <= 0 { break }
                    reply += chunk[0..<count]
                }
                #expect(String(decoding: reply, as: UTF8.self) == "HELLO WORKER\n")
                #expect(try await handle.get(timeout: 10) == 13)
            }
        }
        #expect(left.isEmpty)
    }

    @Test func aDescriptorOutsideAJobCannotBeEncoded() {
        #expect(throws: EncodingError.self) { _ = try JSONProcessCoder().encode(PassedDescriptor(0)) }
    }
}

/// Descriptors the test's input sequence opened, closed when the map is done.
@Hub
private final class OpenedDescriptors {
    var fds: [Int32] = []
}
