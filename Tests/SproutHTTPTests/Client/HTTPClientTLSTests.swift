import Testing
@testable import Sprout
import SproutHTTP

/// An HTTPS server on Python's ssl module with a certificate made for the test.
private let tlsServerScript = """
    import functools, http.server, ssl, sys
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("Serving HTTPS on 127.0.0.1 port", server.server_address[1], flush=True)
    server.serve_forever()
    """

@Suite("HTTPClient over TLS", .heavy)
struct HTTPClientTLSTests {
    @Test
    func certificatesAreVerifiedByDefault() async throws {
        let files = ["index.txt": Array("secret page\n".utf8)]
        let directory = makeDirectory(files: files)
        defer { removeDirectory(directory, files: ["index.txt", "cert.pem", "key.pem"]) }
        try await onHub(seconds: 50) {
            let made = try await runProgram("openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem",
            ])
            try #require(made == .exited(0), "openssl could not make a certificate")
            let peer = try await PythonHTTPServer(arguments: [
                "-c", tlsServerScript, "\(directory)/cert.pem", "\(directory)/key.pem", directory,
            ])
            let url = "https://127.0.0.1:\(peer.port)/index.txt"

            let verifying = HTTPClient()
            do {
                _ = try await verifying.get(url, timeout: 10)
                Issue.record("a self-signed certificate was accepted")
            } catch let error as HTTPError {
                guard case .tls(let failedURL, let reason) = error else {
                    Issue.record("expected a TLS error, got \(error)")
                    return
                }
                #expect(failedURL == url)
                #expect(!reason.isEmpty)
            }
            verifying.close()

            let trusting = HTTPClient(configuration: .init(verifyTLS: false))
            let response = try await trusting.get(url, timeout: 10)
            #expect(response.status == 200)
            #expect(response.text == "secret page\n")
            trusting.close()
            try await peer.stop()
        }
    }
}
