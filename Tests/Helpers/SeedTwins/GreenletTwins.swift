import Sprout
import SproutHTTP

/// The greenlet and gevent examples of seed 004.
let greenletTwins: [String: @Hub @Sendable () async throws -> Void] = [
    // greenlet's explicit switches: a Tasklet is a greenlet you hand control to by name.
    "greenlet-switch": {
        let gr1 = Tasklet(), gr2 = Tasklet()
        gr1.run = { _ in
            print(12)
            try await gr2.switch()
            print(34)
            try await gr2.switch()
            return nil
        }
        gr2.run = { _ in
            print(56)
            try await gr1.switch()
            print(78)
            return nil
        }
        try await gr1.switch()   // returns when gr2 ends: its parent is this code
        gr1.kill()               // gr1 still waits in its second switch, as in greenlet
    },
    "gevent-sleep0": {
        let foo = spawn {
            print("Running in foo")
            try await sleep(0)
            print("Explicit context switch to foo again")
        }
        let bar = spawn {
            print("Explicit context to bar")
            try await sleep(0)
            print("Implicit context switch back to bar")
        }
        try await joinAll([foo, bar])
    },
    // gevent's fetch of three sites, against three pages of a local server (the seed's
    // sites are out of reach of the tests, and no monkey-patching is needed: the client's
    // waits switch greenlets by themselves).
    "gevent-fetch": {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, configuration: .init()) { request in
            HTTPServerResponse(text: String(repeating: "x", count: request.path.count * 100))
        }
        try server.start()
        let urls = ["/python", "/yahoo-com", "/github-dot-com"].map { "http://127.0.0.1:\(server.port)\($0)" }
        let fetches = urls.map { url in
            spawn {
                print("GET: \(url)")
                let response = try await HTTPClient.shared.get(url)
                print("\(response.body.count) bytes received from \(url).")
            }
        }
        try await joinAll(fetches, raiseError: true)
        await server.stop()
    },
]
