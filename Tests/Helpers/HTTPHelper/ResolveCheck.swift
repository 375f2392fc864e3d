import Sprout
import SproutHTTP

/// True when a request to `url` fails with ``HTTPError/couldNotResolve(url:)``; prints
/// what happened instead otherwise. The test runs this mode inside a network namespace of
/// its own (`unshare -rn`), where no name server can be reached, so the lookup fails on
/// this machine and sends nothing off it.
func failsToResolve(_ url: String) throws -> Bool {
    try Hub.run { () -> Bool in
        let client = HTTPClient()
        defer { client.close() }
        do {
            let response = try await client.get(url, timeout: 10)
            print("answered \(response.status)")
            return false
        } catch HTTPError.couldNotResolve(let failedURL) where failedURL == url {
            return true
        } catch {
            print("failed otherwise: \(error)")
            return false
        }
    }
}
