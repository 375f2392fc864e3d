import Sprout
import SproutHelperSupport
import SproutHTTP

import Glibc

struct CutShort: Error {}

@Hub
func startServer() throws -> HTTPServer {
    var router = HTTPRouter()
    router.add(.get, "/page") { _ in HTTPServerResponse(text: "page") }
    router.add(.post, "/echo") { request in HTTPServerResponse(body: request.body) }
    router.add(.get, "/slow") { _ in
        try await sleep(30)
        return HTTPServerResponse(text: "late")
    }
    router.add(.get, "/cut") { _ in
        HTTPServerResponse { writer in
            try await writer.write([UInt8](repeating: 1, count: 5000))
            throw CutShort()
        }
    }
    router.add(.get, "/big") { _ in
        HTTPServerResponse { writer in
            for _ in 0..<64 { try await writer.write([UInt8](repeating: 2, count: 65536)) }
        }
    }
    let server = HTTPServer(host: "127.0.0.1", port: 0, router: router)
    try server.start()
    return server
}

/// A client and a server go through every kind of exchange (keep-alive, Connection: close,
/// uploads, a body cut short, a refused connection, a killed request, a streamed body dropped
/// half read); true when, once both are closed, the process holds exactly the descriptors it
/// held before.
func everyDescriptorIsClosed() throws -> Bool {
    try Hub.run { () -> Bool in
        // libcurl's one-time global set-up keeps a descriptor for the life of the process: let
        // it happen before the first reading.
        let warmServer = try startServer()
        let warmUp = HTTPClient()
        _ = try await warmUp.get("http://127.0.0.1:\(warmServer.port)/page")
        warmUp.close()
        await warmServer.stop(timeout: 1)
        let before = try await settledDescriptors()

        let server = try startServer()
        let base = "http://127.0.0.1:\(server.port)"
        let client = HTTPClient(configuration: .init(maxConnectionsPerHost: 16))
        var greenlets: [Greenlet<Void>] = []
        for index in 0..<200 {
            greenlets.append(spawn {
                switch index % 4 {
                case 0: _ = try await client.get("\(base)/page")
                case 1: _ = try await client.get("\(base)/page", headers: ["Connection": "close"])
                case 2: _ = try await client.post("\(base)/echo", body: [UInt8](repeating: 3, count: 100_000))
                default: _ = try? await client.get("\(base)/cut")
                }
            })
        }
        greenlets.append(spawn { _ = try? await client.get("http://127.0.0.1:1/") })
        let doomed = spawn { _ = try await client.get("\(base)/slow") }
        greenlets.append(spawn {
            let response = try await client.stream(HTTPRequest(url: "\(base)/big"))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
            // The rest is dropped unread: the transfer must be taken out and its socket closed.
        })
        try await joinAll(greenlets, raiseError: true)
        doomed.cancel()
        try await doomed.join()

        client.close()
        await server.stop(timeout: 1)
        let after = try await descriptors(returningTo: before.count)
        if after.count != before.count {
            print("descriptors before: \(before)\nafter: \(after)")
        }
        return after.count == before.count
    }
}
