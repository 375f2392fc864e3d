import CCurl

import Glibc

extension HTTPError {
    /// The error for curl's result `code` on `url`, with curl's `message` and the `osErrno`
    /// of the socket call that failed (0 when none did).
    init(code: CURLcode, url: String, message: String, osErrno: Int32) {
        switch code {
        case CURLE_URL_MALFORMAT:
            self = .invalidURL(url: url)
        case CURLE_UNSUPPORTED_PROTOCOL:
            // curl says so both for a foreign scheme and for an answer without a status line.
            let lower = url.lowercased()
            self = lower.hasPrefix("http://") || lower.hasPrefix("https://")
                ? .protocolError(url: url, reason: message) : .invalidURL(url: url)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            self = .couldNotResolve(url: url)
        case CURLE_COULDNT_CONNECT:
            self = .connectionRefused(url: url)
        case CURLE_OPERATION_TIMEDOUT:
            self = .timedOut(url: url)
        case CURLE_TOO_MANY_REDIRECTS:
            self = .tooManyRedirects(url: url)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CRL_BADFILE,
             CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED:
            self = .tls(url: url, reason: message)
        case CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_HTTP3, CURLE_RANGE_ERROR:
            self = .protocolError(url: url, reason: message)
        case CURLE_RECV_ERROR where message.contains("chunked-encoding"):
            // curl reports a malformed chunk as a receive error: the answer was bad, the
            // connection was fine.
            self = .protocolError(url: url, reason: message)
        case CURLE_RECV_ERROR where osErrno == ECONNRESET, CURLE_SEND_ERROR where osErrno == ECONNRESET:
            self = .connectionReset(url: url)
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
            self = .connectionLost(url: url, reason: message)
        default:
            self = .failed(url: url, reason: message)
        }
    }
}
