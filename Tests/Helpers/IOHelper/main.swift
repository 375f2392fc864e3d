// Whole-process checks for Sprout's I/O, run by Tests/SproutTests/IO as a child process so
// that parallel tests cannot disturb descriptor counts or signals:
//
//   sprout-io-helper fd-leak            runs every kind of I/O twice; prints FDS <before> <after>
//   sprout-io-helper many N             holds N connections open at once (clients in a second
//                                       process); prints SERVED, PEAK, EXIT, FDS
//   sprout-io-helper child-then-wait P  starts `sleep 60` and a server on Unix socket P, prints
//                                       READY <pid>, waits for SIGINT
//   sprout-io-helper upper              copies standard input to standard output, upper-cased
//   sprout-io-helper signals N          prints READY, counts N SIGUSR1 through Signals, prints GOT N
import Sprout
import SproutHelperSupport

import Glibc

func say(_ line: String) {
    print(line)
    fflush(nil)  // the test reads through a pipe
}

/// Raises the soft descriptor limit to `wanted` (and the hard one, where allowed).
func raiseDescriptorLimit(to wanted: Int) -> Int {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    if Int(limit.rlim_cur) >= wanted { return Int(limit.rlim_cur) }
    if Int(limit.rlim_max) < wanted {
        var raised = limit
        raised.rlim_max = rlim_t(wanted)
        raised.rlim_cur = rlim_t(wanted)
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { return wanted }
    }
    limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    return Int(limit.rlim_cur)
}

/// One pass over every kind of descriptor Sprout's I/O opens.
@Hub
func exerciseEverything(round: Int) async throws {
    let server = StreamServer(port: 0) { stream in
        while case let bytes = try await stream.read(), !bytes.isEmpty { try await stream.write(bytes) }
    }
    try server.start()
    var clients: [TCPStream] = []
    for _ in 0..<20 {
        let stream = try await TCPStream.connect(host: "127.0.0.1", port: server.port)
        try await stream.write([1, 2, 3])
        _ = try await stream.readExactly(3)
        clients.append(stream)
    }
    _ = try await TCPStream.connect(host: "localhost", port: server.port).close()
    for stream in clients { stream.close() }
    await server.stop(timeout: 1)
    _ = try? await TCPStream.connect(host: "127.0.0.1", port: server.port)  // refused

    let path = "/tmp/sprout-io-helper-\(getpid()).sock"
    let unixServer = StreamServer(unixPath: path) { stream in try await stream.write(try await stream.readExactly(1)) }
    try unixServer.start()
    let unix = try await UnixStream.connect(path: path)
    try await unix.write([7])
    _ = try await unix.readExactly(1)
    unix.close()
    _ = try? await UnixStream.connect(path: path + ".missing")
    await unixServer.stop(timeout: 1)

    let a = try UDPSocket()
    let b = try UDPSocket()
    try await a.send([1], to: b.localAddress!)
    _ = try await b.receive(timeout: 5)
    a.close()
    b.close()

    _ = try await Command("/bin/sh", arguments: ["-c", "echo hi; echo there >&2"], standardInput: .bytes([1])).output(timeout: 10)
    _ = try? await Command("sleep", arguments: ["5"]).output(timeout: 0.05)
    _ = try? Command("/nonexistent").spawn()

    let file = "/tmp/sprout-io-helper-\(getpid()).txt"
    try await File.write(Array("round \(round)".utf8), to: file)
    _ = try await File.read(file)
    try await File.remove(file)
    _ = try? await File.read(file)

    _ = try await offloadBlocking { usleep(1000) }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "fd-leak":
    try Hub.run {
        try await exerciseEverything(round: 0)  // opens what is opened once per process
        let before = try await settledDescriptors()
        for round in 1...3 { try await exerciseEverything(round: round) }
        let after = try await descriptors(returningTo: before.count)
        say("FDS \(before.count) \(after.count)")
        if after.count != before.count { say("BEFORE \(before)\nAFTER \(after)") }
    }

case "many":
    // The server lives here; the clients in a second copy of this helper ("clients"), so
    // each process needs only one descriptor per connection.
    let count = Int(arguments.dropFirst().first ?? "") ?? 10_000
    let limit = raiseDescriptorLimit(to: count + 200)
    guard limit >= count + 100 else {
        say("LIMIT \(limit) is too low for \(count) connections")
        exit(2)
    }
    try Hub.run {
        // libuv keeps one spare descriptor per loop from the first listen on (for EMFILE).
        let warmUp = StreamServer(port: 0) { _ in }
        try warmUp.start()
        await warmUp.stop()
        let before = try await settledDescriptors().count
        let server = StreamServer(port: 0) { stream in
            while case let bytes = try await stream.read(), !bytes.isEmpty { try await stream.write(bytes) }
        }
        try server.start()
        let clients = try Command(CommandLine.arguments[0], arguments: ["clients", "\(server.port)", "\(count)"],
                                  standardInput: .pipe, standardOutput: .pipe).spawn()
        let report = try await clients.standardOutput!.readUntil([10], maxLength: 200)
        let peak = server.connectionCount
        clients.standardInput!.close()  // the clients close everything and exit
        let status = try await clients.wait(timeout: 30)
        clients.standardOutput!.close()
        for _ in 0..<100 where server.connectionCount > 0 { try await sleep(0.05) }
        await server.stop(timeout: 5)
        let after = try await descriptors(returningTo: before).count
        say("\(String(decoding: report.dropLast(), as: UTF8.self)) PEAK \(peak) EXIT \(status.shellCode) FDS \(before) \(after)")
    }

case "clients":
    let port = Int(arguments[1])!
    let count = Int(arguments[2])!
    _ = raiseDescriptorLimit(to: count + 200)
    try Hub.run {
        var clients: [TCPStream] = []
        clients.reserveCapacity(count)
        // Connect in batches so the listen backlog never overflows.
        for batchStart in stride(from: 0, to: count, by: 500) {
            let batch = (batchStart..<min(batchStart + 500, count)).map { _ in
                spawn { try await TCPStream.connect(host: "127.0.0.1", port: port, timeout: 30) }
            }
            for greenlet in batch { clients.append(try await greenlet.get()) }
        }
        // Every connection does a round trip while all are open.
        let trips = clients.enumerated().map { index, stream in
            spawn {
                let message = Array("\(index)".utf8)
                try await stream.write(message)
                return try await stream.readExactly(message.count) == message
            }
        }
        var served = 0
        for trip in trips where try await trip.get() { served += 1 }
        say("SERVED \(served)")
        let input = try PipeStream.standardInput()
        _ = try await input.readToEnd()
        for stream in clients { stream.close() }
    }

case "child-then-wait":
    let path = arguments.count > 1 ? arguments[1] : "/tmp/sprout-io-helper-\(getpid())-wait.sock"
    try Hub.run {
        let child = try Command("sleep", arguments: ["60"]).spawn()
        // A server too: the hub's shutdown must stop it and remove its socket file.
        let server = StreamServer(unixPath: path) { _ in }
        try server.start()
        say("READY \(child.pid)")
        try await sleep(60)
    }

case "upper":
    try Hub.run {
        let input = try PipeStream.standardInput()
        let output = try PipeStream.standardOutput()
        while case let bytes = try await input.read(), !bytes.isEmpty {
            try await output.write(bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })
        }
        try await output.flush()
        output.close()
    }

case "signals":
    let wanted = Int(arguments.dropFirst().first ?? "") ?? 3
    try Hub.run {
        let signals = try Signals(SIGUSR1)
        say("READY")
        // Bounded, so a helper whose test died does not wait forever.
        let received = try await withTimeout(30) {
            var received = 0
            for try await signal in signals {
                if signal == SIGUSR1 { received += 1 }
                if received == wanted { break }
            }
            return received
        }
        signals.close()
        say("GOT \(received)")
    }

case "own-sigint":
    // Watching SIGINT takes it over from Hub.run; closing the watch gives it back.
    try Hub.run {
        let signals = try Signals(SIGINT)
        say("READY")
        let signal = try await signals.wait(timeout: 30)
        signals.close()
        say("GOT \(signal)")
        // The next SIGINT is Hub.run's again: it ends the process with 130.
        try await sleep(30)
        say("NOT INTERRUPTED")
    }

default:
    print("usage: sprout-io-helper fd-leak | many N | child-then-wait | upper | signals N | own-sigint")
    exit(2)
}
