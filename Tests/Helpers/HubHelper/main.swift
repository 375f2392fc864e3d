// Whole-process scenarios for the hub tests: each runs in a process of its own, so exit
// codes, signals and reports on stderr belong to it alone.
import Logging
import Sprout

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
            usleep(400_000)
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

case "main-throws":
    // The main greenlet's error comes out of Hub.run, and is not also reported.
    do {
        try Hub.run { throw Failure(text: "main failed") }
    } catch {
        say("Hub.run threw \(error)")
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
    print("usage: sprout-test-helper teardown|signal|block|unobserved|main-throws|many")
    exit(2)
}
