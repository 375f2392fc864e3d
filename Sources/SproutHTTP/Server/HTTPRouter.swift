import Sprout

/// Maps a method and an exact path to a handler; anything else is answered with 404
/// (or 405 when the path exists for other methods).
///
/// ```swift
/// var router = HTTPRouter()
/// router.add(.get, "/hello") { _ in HTTPServerResponse(text: "hello\n") }
/// let server = HTTPServer(port: 8080, router: router)
/// ```
public struct HTTPRouter: Sendable {
    private var routes: [String: [HTTPMethod: HTTPServer.Handler]] = [:]
    private var fallback: HTTPServer.Handler?

    /// An empty router.
    public init() {}

    /// Routes `method` requests for exactly `path` (query ignored) to `handler`.
    public mutating func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping HTTPServer.Handler) {
        routes[path, default: [:]][method] = handler
    }

    /// Answers every request no route matches with `handler` instead of 404.
    public mutating func setFallback(_ handler: @escaping HTTPServer.Handler) {
        fallback = handler
    }

    /// The response of the matching route, 405 or 404.
    ///
    /// - Throws: whatever the route's handler throws.
    @Hub
    public func respond(to request: HTTPServerRequest) async throws -> HTTPServerResponse {
        let methods = routes[request.path]
        if let handler = methods?[request.method] ?? (request.method == .head ? methods?[.get] : nil) {
            return try await handler(request)
        }
        if let fallback { return try await fallback(request) }
        if let methods {
            let allowed = methods.keys.map(\.rawValue).sorted().joined(separator: ", ")
            return HTTPServerResponse(status: 405, headers: ["Allow": allowed], text: "method not allowed\n")
        }
        return HTTPServerResponse(status: 404, text: "not found\n")
    }
}
