// The seeds' echo server on a process pool (seed 003, "进程池ftp"): the hub only accepts
// on 127.0.0.1; each connection is detached from the hub and travels (SCM_RIGHTS) inside a
// job to a pool worker, which serves it to the end — reads up to 1024 bytes, answers them
// in upper case — as `ProcessPoolExecutor(5).submit(talk, conn, client_addr)` does. A worker
// that dies closes only its own client's connection; the pool replaces it.
//
//     swift run --package-path Examples sprout-process-server 8080 &
//     nc 127.0.0.1 8080                              # hello → HELLO
import Sprout

import Glibc

/// `talk(conn, client_addr)`: echoes in upper case until the client closes.
struct Talk: ProcessJob {
    var connection: PassedDescriptor

    func run() -> Int {
        print("进程pid: \(getpid())")
        var served = 0
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }   // the client closed, or the connection failed
            let upper = buffer[0..<count].map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
            let sent = upper.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 { break }
            served += 1
        }
        return served
    }
}

lineBufferStandardOutput()   // each worker's line shows at once, also through a pipe

try ProcessPool.serveIfWorker(jobs: [Talk.self])

let arguments = CommandLine.arguments.dropFirst()
let port = arguments.first.flatMap { Int($0) } ?? 8080
let workers = arguments.dropFirst().first.flatMap { Int($0) } ?? 5
try Hub.run {
    let pool = try await ProcessPool(workers: workers)
    let server = StreamServer(host: "127.0.0.1", port: port) { connection in
        let fd = try connection.detachDescriptor()
        defer { close(fd) }   // the job carries its own copy
        let talk = try pool.submit(Talk(connection: PassedDescriptor(fd)))
        talk.onDone { result in
            if case .failure(let error) = result { print("a connection ended with its worker: \(error)") }
        }
    }
    try server.start()
    print("echoing on 127.0.0.1:\(server.port) with \(pool.size) workers; Ctrl-C stops")
    try await server.serveForever()
}
