import Testing
@testable import Sprout
import SproutHTTP

@Suite("HTTPClient against python3 -m http.server", .heavy)
struct HTTPClientPythonPeerTests {
    @Test
    func fetchesFilesFromARealPeer() async throws {
        let big = pseudoRandomBytes(2 << 20, seed: 7)
        let files = ["small.txt": Array("hello from python\n".utf8), "big.bin": big]
        let directory = makeDirectory(files: files)
        defer { removeDirectory(directory, files: Array(files.keys)) }
        let bodies = try await onHub(seconds: 50) { () -> [[UInt8]] in
            let peer = try await PythonHTTPServer(directory: directory)
            // http.server listens with a backlog of 5: more simultaneous connects than that
            // overflow it, and the kernel drops the excess.
            let client = HTTPClient(configuration: .init(maxConnectionsPerHost: 4))
            do {
                let small = try await client.get(peer.url("/small.txt"))
                #expect(small.status == 200)
                #expect(small.text == "hello from python\n")

                let pages = (0..<8).map { _ in spawn { try await client.get(peer.url("/big.bin"), timeout: 30) } }
                var bodies: [[UInt8]] = []
                for page in pages {
                    let response = try await page.get()
                    #expect(response.status == 200)
                    #expect(response.headers["Content-Length"] == String(big.count))
                    bodies.append(response.body)
                }
                let missing = try await client.get(peer.url("/missing"))
                #expect(missing.status == 404)

                let head = try await client.send(HTTPRequest(url: peer.url("/big.bin"), method: .head))
                #expect(head.status == 200)
                #expect(head.body.isEmpty)

                // http.server has no POST: a 501 is a response, not an error. (The body is small:
                // the server answers without reading it and closes, which would reset a big upload.)
                let post = try await client.post(peer.url("/small.txt"), body: Array("name=sprout".utf8))
                #expect(post.status == 501)
                client.close()
                #expect(client.openConnections == 0)
                try await peer.stop()
                return bodies
            } catch {
                client.close()
                try await peer.stop()
                throw error
            }
        }
        // Checked off the hub: hashing megabytes in a debug build would stall other tests.
        #expect(bodies.count == 8)
        for body in bodies { #expect(checksum(body) == checksum(big)) }
    }
}
