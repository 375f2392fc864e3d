// The seeds' "a server accepts connections and hands each to a pool worker": the hub
// accepts on 127.0.0.1, and every connection travels (SCM_RIGHTS) inside a job to a
// worker process, which reads a number and answers how many primes lie below it.
//
//     swift run sprout-process-server 8765 &
//     echo 100000 | nc -q1 127.0.0.1 8765      # → 9592
import Sprout

import Glibc

/// Answers one connection: reads a number, writes the count of primes below it.
struct AnswerPrimes: ProcessJob {
    var connection: PassedDescriptor

    func run() throws -> Int {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(connection.fd, &byte, 1) == 1 && byte != 10 { line.append(byte) }
        let limit = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: " \r")) ?? 0
        var count = 0
        for candidate in 2..<max(limit, 2) where isPrime(candidate) { count += 1 }
        let reply = Array("\(count)\n".utf8)
        _ = reply.withUnsafeBytes { write(connection.fd, $0.baseAddress, $0.count) }
        return count
    }

    private func isPrime(_ value: Int) -> Bool {
        var divisor = 2
        while divisor * divisor <= value {
            if value % divisor == 0 { return false }
            divisor += 1
        }
        return true
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

try ProcessPool.serveIfWorker(jobs: [AnswerPrimes.self])

let port = UInt16(CommandLine.arguments.dropFirst().first.flatMap { UInt16($0) } ?? 8765)
try Hub.run {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    var reuse: Int32 = 1
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(listener, 128) == 0 else {
        print("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        return
    }
    let pool = try await ProcessPool()
    print("answering on 127.0.0.1:\(port) with \(pool.size) workers; Ctrl-C stops")
    defer { close(listener) }
    while try await waitReadable(listener) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { break }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let handle = try pool.submit(AnswerPrimes(connection: PassedDescriptor(connection)))
            close(connection)
            handle.onDone { if let error = handle.error { print("connection failed: \(error)") } }
        }
    }
}
