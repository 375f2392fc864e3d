// SproutHTTP: a server on the hub and three greenlets fetching from it at once.
// Run: swift run HTTPBasics
import Sprout
import SproutHTTP

try Hub.run {
    let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
        HTTPServerResponse(text: "hello from \(request.path)\n")
    }
    try server.start()
    let pages = ["/a", "/b", "/c"].map { path in
        spawn { try await HTTPClient.shared.get("http://127.0.0.1:\(server.port)\(path)", timeout: 10) }
    }
    try await joinAll(pages, raiseError: true)
    for page in pages { print(page.value!.status, page.value!.text) }
    await server.stop()
}
