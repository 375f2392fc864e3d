import Sprout
import SproutHTTP

/// The greenlet and gevent examples of seed 004.
let greenletTwins: [String: @Hub @Sendable () async throws -> Void] = [
    // greenlet's explicit `gr2.switch()` is a yield here: greenlets switch only where they
    // wait, and `sleep(0)` lets the other one run until it waits in turn.
    "greenlet-switch": {
        let test1 = spawn {
            print(12)
            try await sleep(0)
            print(34)
            try await sleep(0)
        }
        let test2 = spawn {
            print(56)
            try await sleep(0)
            print(78)
        }
        try await joinAll([test1, test2])
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
