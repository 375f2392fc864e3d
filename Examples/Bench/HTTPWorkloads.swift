import Sprout
import SproutBenchSupport
import SproutHTTP

/// SproutHTTP's workloads: the client fetching from a server in another process, and the
/// server answering a load generator (bench/compare/peers/http_bench.py runs both sides).
let httpWorkloads: [Workload] = [
    Workload(
        name: "http-fetch",
        usage: "http-fetch URL [TOTAL] [CONCURRENCY] [close|keepalive]: requests/s fetching URL TOTAL times, CONCURRENCY at a time"
    ) { arguments in
        guard let url = arguments.first else { throw HTTPError.invalidURL(url: "(missing)") }
        let total = intArgument(arguments, 1, 5000)
        let concurrency = intArgument(arguments, 2, 100)
        let close = arguments.count <= 3 || arguments[3] != "keepalive"
        let headers: HTTPHeaders = close ? ["Connection": "close"] : [:]
        let seconds = try Hub.run {
            let client = HTTPClient(configuration: .init(maxConnectionsPerHost: 0))
            defer { client.close() }
            var next = 0
            let start = now()
            // gevent's Pool(100): a fixed set of greenlets, each taking the next URL.
            let workers = (0..<concurrency).map { _ in
                spawn {
                    while next < total {
                        next += 1
                        let response = try await client.get(url, headers: headers, timeout: 30)
                        guard response.status == 200, !response.body.isEmpty else {
                            throw HTTPError.protocolError(url: url, reason: "status \(response.status)")
                        }
                    }
                }
            }
            try await joinAll(workers, raiseError: true)
            return now() - start
        }
        report(Double(total) / seconds)
    },
    Workload(name: "http-serve", usage: "http-serve PORT: serve a small page on 127.0.0.1:PORT until SIGTERM/SIGINT") { arguments in
        let port = intArgument(arguments, 0, 8080)
        try Hub.run {
            // One answer for every request, built once (the uvloop and Node peers likewise
            // answer the same small page).
            let page = HTTPServerResponse(headers: ["Content-Type": "text/plain"], body: Array("Hello, World!".utf8))
            let server = HTTPServer(host: "127.0.0.1", port: port) { _ in page }
            try await server.serveForever()
        }
    },
]
