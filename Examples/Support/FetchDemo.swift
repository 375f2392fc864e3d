import Sprout
import SproutHTTP

/// The offline fetch demo: a local Sprout HTTP server whose pages answer after a delay,
/// fetched one after another and then all at once, so the speedup of greenlets that
/// switch while they wait on the network shows without any internet access; then through
/// a greenlet ``Pool`` of four, which draws its progress line on a terminal.
///
/// Shared by `fetch-urls` (run without arguments) and `sprout-demo`.
public enum FetchDemo {
    /// Timings of one run.
    public struct Result: Sendable {
        /// Pages fetched in each round.
        public let pages: Int
        /// Seconds each page took to answer.
        public let delay: Double
        /// Seconds for the pages fetched one after another.
        public let sequential: Double
        /// Seconds for the same pages fetched at once, one greenlet each.
        public let concurrent: Double
        /// Seconds for the same pages through a ``Pool`` of four greenlets.
        public let pooled: Double
        /// `sequential / concurrent`.
        public var speedup: Double { sequential / concurrent }
    }

    /// Serves `pages` pages that each answer after `delay` seconds on 127.0.0.1 (a free
    /// port), fetches them sequentially, then concurrently, then four at a time through a
    /// ``Pool`` (its ``ProgressLine`` on standard error when that is a terminal), and
    /// reports the timings and the speedup through `print`.
    ///
    /// - Throws: ``HTTPError`` if a fetch fails; ``IOError`` if the server cannot listen;
    ///   `CancellationError` if the greenlet is killed.
    @Hub
    @discardableResult
    public static func run(
        pages: Int = 10,
        delay: Double = 0.2,
        print: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
            try await sleep(delay)
            return HTTPServerResponse(text: "page \(request.path) after \(Int(delay * 1000)) ms\n")
        }
        try server.start()
        let client = HTTPClient()
        defer { client.close() }
        let urls = (1...max(1, pages)).map { "http://127.0.0.1:\(server.port)/page/\($0)" }
        print("Sprout HTTP server on 127.0.0.1:\(server.port): \(urls.count) pages, each answers after \(Int(delay * 1000)) ms")

        print("\none after another:")
        var started = monotonicSeconds()
        for url in urls {
            let begin = monotonicSeconds()
            let response = try await client.get(url, timeout: 30)
            print("  \(url)  \(response.status)  \(response.body.count) bytes  \(milliseconds(since: begin)) ms")
        }
        let sequential = monotonicSeconds() - started

        print("\nall at once (one greenlet each, spawn + joinAll):")
        started = monotonicSeconds()
        let fetches = urls.map { url in
            spawn(name: url) {
                let begin = monotonicSeconds()
                let response = try await client.get(url, timeout: 30)
                print("  \(url)  \(response.status)  \(response.body.count) bytes  \(milliseconds(since: begin)) ms")
            }
        }
        try await joinAll(fetches, raiseError: true)
        let concurrent = monotonicSeconds() - started

        print("\nfour at a time (a greenlet Pool(size: 4), pool.map with a progress line):")
        started = monotonicSeconds()
        let line = ProgressLine(label: "  pages")
        let sizes = try await Pool(size: 4).map(urls, progress: line.update) { url in
            try await client.get(url, timeout: 30).body.count
        }
        let pooled = monotonicSeconds() - started
        print("  \(sizes.count) pages, \(sizes.reduce(0, +)) bytes")
        await server.stop(timeout: 1)

        let result = Result(pages: urls.count, delay: delay, sequential: sequential, concurrent: concurrent, pooled: pooled)
        print("""

            sequential: \(Int(sequential * 1000)) ms
            concurrent: \(Int(concurrent * 1000)) ms
            pool of 4:  \(Int(pooled * 1000)) ms
            speedup:    \(Int(result.speedup * 10) / 10).\(Int(result.speedup * 10) % 10)x
            """)
        return result
    }
}
