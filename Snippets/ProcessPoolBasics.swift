// multiprocessing in Sprout: a registered job, a pool's map, submit with a callback,
// a ChildProcess and its exit code, and a socket handed to a worker.
// Run: swift run ProcessPoolBasics
import Sprout

import Glibc

/// `def square(x): return x * x` — a job is a Codable type with a `run()`.
struct Square: ProcessJob {
    var x: Int
    func run() -> Int { x * x }
}

/// A job that never ends on its own, to show how a killed child's exit code reads.
struct Forever: ProcessJob {
    func run() -> Int {
        while true { sleep(1) }
    }
}

/// A job that raises, as a Python target raising an exception.
struct Refuse: ProcessJob {
    struct NotToday: Error, Codable {}
    func run() throws -> Int { throw NotToday() }
}

/// `talk(conn)` of the seeds' echo server: the worker owns the socket it was sent.
struct Shout: ProcessJob {
    var connection: PassedDescriptor
    func run() -> Int {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return 0 }
        let upper = Array(String(decoding: buffer[..<count], as: UTF8.self).uppercased().utf8)
        return upper.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

// The `if __name__ == "__main__"` guard, enforced: a worker never returns from here.
try ProcessPool.serveIfWorker(jobs: [Square.self, Forever.self, Refuse.self, Shout.self])

try Hub.run {
    try await withProcessPool(workers: 2) { pool in
        // Pool.map, with a progress line on standard error (drawn on a terminal only).
        let line = ProgressLine(label: "squares")
        print(try await pool.map((1...10).map(Square.init), progress: line.update))

        // apply_async(..., callback=, error_callback=): one closure gets the outcome.
        let done = try pool.submit(Square(x: 7)) { result in
            if case .success(let value) = result { print("callback:", value) }
        }
        _ = try await done.get()

        // The seeds' echo server in short: accept on the hub, hand the socket to a worker.
        let server = StreamServer { connection in
            let fd = try connection.detachDescriptor()
            defer { close(fd) }   // the job carries its own copy of the descriptor
            _ = try await pool.submit(Shout(connection: PassedDescriptor(fd))).get()
        }
        try server.start()
        let client = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
        try await client.write(Array("hello".utf8))
        print(String(decoding: try await client.readExactly(5), as: UTF8.self))
        client.close()
        await server.stop()
    }

    // Process(target=...): start, join, exit codes as multiprocessing reads them.
    let child = ChildProcess(Square(x: 3), name: "square")
    try child.start()
    print(child.name, "->", try await child.value(timeout: 30), "exit code", child.exitCode ?? 0)
    let refusing = ChildProcess(Refuse())
    try refusing.start()
    do {
        _ = try await refusing.value(timeout: 30)
    } catch let error as JobFailed {
        print("failed:", error, "exit code", refusing.exitCode ?? -1)
    }
    let stuck = ChildProcess(Forever())
    try stuck.start()
    stuck.terminate(grace: 0.5)              // SIGTERM, then SIGKILL after 0.5 s
    _ = try await stuck.join(timeout: 5)
    print(stuck.exitStatus.map(String.init(describing:)) ?? "running", "exitcode", stuck.exitCode ?? 0)
}
