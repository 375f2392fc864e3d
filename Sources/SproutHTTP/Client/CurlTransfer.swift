import CCurl
import DequeModule
import Sprout

import Glibc

/// One request's easy handle and everything curl hands back for it: status, headers,
/// body (whole, or as a bounded queue of chunks when streamed) and the final result.
///
/// The greenlet that sent the request parks on ``waitForProgress()``; curl's callbacks and
/// the multi handle's completion wake it.
@Hub
final class CurlTransfer {
    let easy: UnsafeMutableRawPointer
    let url: String
    let streaming: Bool
    // State of the hub thread, touched several times per request: run-time exclusivity
    // checks on it cost more than the bookkeeping.
    @exclusivity(unchecked) private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    @exclusivity(unchecked) private(set) var status = 0
    @exclusivity(unchecked) private(set) var headers = HTTPHeaders()
    @exclusivity(unchecked) private(set) var effectiveURL: String
    /// The whole body (buffered mode).
    @exclusivity(unchecked) private(set) var body: [UInt8] = []
    /// Set once the final response's head is known (first body byte, or completion).
    @exclusivity(unchecked) private(set) var headersReady = false
    /// Set once a status line has arrived, so a failure after it is a broken body, not a missing response.
    @exclusivity(unchecked) private(set) var responded = false
    /// curl's result, once the transfer is over.
    @exclusivity(unchecked) private(set) var result: CURLcode?
    /// The most body bytes accepted, and how many have been.
    private let bodyLimit: Int
    @exclusivity(unchecked) private var bodyBytes = 0
    /// Set when the body outgrew `bodyLimit` and the write callback ended the transfer.
    @exclusivity(unchecked) private var bodyTooLarge = false

    // Streaming: chunks not yet taken, and whether curl is paused because too many are queued.
    @exclusivity(unchecked) private var chunks = Deque<[UInt8]>()
    @exclusivity(unchecked) private var bufferedBytes = 0
    @exclusivity(unchecked) private var paused = false
    /// How much a streamed body may buffer before curl is paused.
    static let streamBufferLimit = 1 << 20

    @exclusivity(unchecked) private var waiter: Waiter<Void>?
    /// Progress came while no greenlet was parked; the next wait returns at once.
    @exclusivity(unchecked) private var progressUnseen = false

    init(easy: UnsafeMutableRawPointer, request: HTTPRequest, streaming: Bool, defaults: HTTPClient.Configuration) {
        self.easy = easy
        url = request.url
        effectiveURL = request.url
        self.streaming = streaming
        bodyLimit = max(0, request.maxBodyBytes ?? defaults.maxResponseBodyBytes)
        errorBuffer.initialize(to: 0)
        configure(request, defaults: defaults)
    }

    /// Frees what the transfer owns; the easy handle goes back to the multi handle's pool.
    func release(to multi: CurlMulti) {
        // The handle outlives these: it must not point at them.
        sprout_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, nil)
        sprout_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, nil)
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        errorBuffer.deallocate()
        multi.recycle(easy, succeeded: result == CURLE_OK)
    }

    /// Sets the options every transfer of a client shares on a new easy handle; they stay
    /// while the handle is reused, and no transfer changes them. Nonisolated, so the
    /// callbacks made here check only the thread, not the executor (see `CurlMulti`).
    nonisolated static func prepare(_ easy: UnsafeMutableRawPointer, defaults: HTTPClient.Configuration) {
        sprout_easy_setopt_pointer(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        sprout_easy_setopt_pointer(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        sprout_easy_setopt_pointer(easy, CURLOPT_USERAGENT, defaults.userAgent)
        if !defaults.useEnvironmentProxy {
            // An empty proxy disables curl's reading of the proxy variables, and an empty
            // no-proxy list its per-request getenv("no_proxy") calls.
            sprout_easy_setopt_pointer(easy, CURLOPT_PROXY, "")
            sprout_easy_setopt_pointer(easy, CURLOPT_NOPROXY, "")
        }
        sprout_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, defaults.verifyTLS ? 1 : 0)
        sprout_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, defaults.verifyTLS ? 2 : 0)
        // Curl's buffer is read synchronously, on this thread, before the callback returns.
        sprout_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            nonisolated(unsafe) let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            return Hub.onHubThread(CurlTransfer.receivedOnHub)((CurlTransfer.from(userdata), bytes))
        }
        sprout_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            nonisolated(unsafe) let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            Hub.onHubThread(CurlTransfer.receivedHeaderLineOnHub)((CurlTransfer.from(userdata), bytes))
            return size * count
        }
    }

    /// Sets every option a transfer may set, to its default where the request leaves it,
    /// so nothing of the handle's previous transfer carries over.
    private func configure(_ request: HTTPRequest, defaults: HTTPClient.Configuration) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        sprout_easy_setopt_pointer(easy, CURLOPT_URL, request.url)
        sprout_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        sprout_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        sprout_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        sprout_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        sprout_easy_setopt_long(easy, CURLOPT_MAXREDIRS, max(0, request.maxRedirects))
        sprout_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout ?? defaults.connectTimeout))
        // 0: no limit.
        sprout_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.timeout.map(milliseconds) ?? 0)
        // Refuses a body whose Content-Length is over the limit before any of it arrives;
        // `received` counts the bytes of bodies that do not say their length.
        sprout_easy_setopt_offset(easy, CURLOPT_MAXFILESIZE_LARGE, bodyLimit == Int.max ? 0 : curl_off_t(bodyLimit))

        // GET without a body and without NOBODY; then what this request's method needs.
        sprout_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        sprout_easy_setopt_pointer(easy, CURLOPT_CUSTOMREQUEST, nil)
        switch request.method {
        case .get where request.body == nil:
            break
        case .head:
            sprout_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        default:
            if request.method != .post || request.body == nil {
                sprout_easy_setopt_pointer(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            }
        }
        if let body = request.body {
            sprout_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies, so the bytes need not outlive this call.
                _ = sprout_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(errorBuffer))
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for field in request.headers {
            list = curl_slist_append(list, "\(field.name): \(field.value)")
        }
        // curl would otherwise send `Expect: 100-continue` for big bodies and wait a second
        // for servers (python's http.server among them) that never answer it.
        if request.body != nil && !request.headers.contains("Expect") {
            list = curl_slist_append(list, "Expect:")
        }
        headerList = list
        sprout_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, list)
    }

    // Curl's data callbacks enter the hub the way every per-event callback does (see
    // `Hub.onHubThread`).
    private nonisolated static let receivedOnHub: @Sendable @Hub ((CurlTransfer, UnsafeRawBufferPointer)) -> Int = {
        $0.0.received($0.1)
    }
    private nonisolated static let receivedHeaderLineOnHub: @Sendable @Hub ((CurlTransfer, UnsafeRawBufferPointer)) -> Void = {
        $0.0.receivedHeaderLine($0.1)
    }

    nonisolated private static func from(_ pointer: UnsafeMutableRawPointer?) -> CurlTransfer {
        Unmanaged<CurlTransfer>.fromOpaque(pointer!).takeUnretainedValue()
    }

    // MARK: Curl's callbacks

    private func received(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !headersReady { markHeadersReady() }
        if bytes.count > bodyLimit - bodyBytes {
            // Taking fewer bytes than offered makes curl end the transfer (CURLE_WRITE_ERROR).
            bodyTooLarge = true
            return 0
        }
        if !streaming {
            bodyBytes += bytes.count
            body.append(contentsOf: bytes)
            return bytes.count
        }
        if bufferedBytes >= Self.streamBufferLimit {
            paused = true
            return Int(CURL_WRITEFUNC_PAUSE)
        }
        bodyBytes += bytes.count
        chunks.append(Array(bytes))
        bufferedBytes += bytes.count
        wakeWaiter()
        return bytes.count
    }

    private func receivedHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // "HTTP/", compared byte by byte: this runs for every header line.
        if bytes.count >= 5 && bytes[0] == 72 && bytes[1] == 84 && bytes[2] == 84 && bytes[3] == 80 && bytes[4] == 47 {
            // A new response begins (after a redirect or a 100 Continue): forget the last one's fields.
            headers = HTTPHeaders()
            headers.reserveCapacity(16)
            responded = true
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        var start = colon + 1
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        headers.add(
            name: String(decoding: bytes[..<colon], as: UTF8.self),
            value: String(decoding: bytes[start..<end], as: UTF8.self)
        )
    }

    private func markHeadersReady() {
        headersReady = true
        var code = 0
        sprout_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        status = code
        var location: UnsafeMutablePointer<CChar>?
        if sprout_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &location) == CURLE_OK, let location {
            // Most often the URL asked for: keep that String rather than build an equal one.
            if url.withCString({ strcmp($0, location) }) != 0 { effectiveURL = String(cString: location) }
        }
        // A buffered request's greenlet waits for the end; only a stream wants the head now.
        if streaming { wakeWaiter() }
    }

    /// Called once when curl is done with the transfer (or it was aborted).
    func finish(_ code: CURLcode) {
        guard result == nil else { return }
        if !headersReady { markHeadersReady() }
        result = code
        wakeWaiter()
    }

    // MARK: The requesting greenlet's side

    /// Parks until curl makes progress (head, a chunk, completion) — or returns at once if
    /// some came since the last wait: the caller checked its condition before calling, and
    /// entering this method can let other hub work (the whole transfer) run first.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed; the caller aborts the transfer.
    func waitForProgress() async throws {
        if progressUnseen {
            progressUnseen = false
            return
        }
        let waiter = Waiter<Void>()
        self.waiter = waiter
        defer { if self.waiter === waiter { self.waiter = nil } }
        if case .cancelled = await park(waiter) { throw CancellationError() }
    }

    private func wakeWaiter() {
        if let waiter {
            self.waiter = nil
            waiter.wake()
        } else {
            progressUnseen = true
        }
    }

    /// The error curl's result stands for, or `nil` on success.
    var error: HTTPError? {
        guard let result, result != CURLE_OK else { return nil }
        if bodyTooLarge || result == CURLE_FILESIZE_EXCEEDED { return .responseTooLarge(url: url, limit: bodyLimit) }
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(result))
        var osErrno = 0
        sprout_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
        return HTTPError(code: result, url: url, message: message, osErrno: Int32(truncatingIfNeeded: osErrno))
    }

    /// The next streamed chunk, or `nil` once the body is complete. Resumes curl when the
    /// queue has drained below half its limit.
    func takeChunk() -> [UInt8]? {
        guard let chunk = chunks.popFirst() else { return nil }
        bufferedBytes -= chunk.count
        if paused && bufferedBytes < Self.streamBufferLimit / 2 {
            paused = false
            curl_easy_pause(easy, CURLPAUSE_CONT)
        }
        return chunk
    }
}

private func milliseconds(_ seconds: Double) -> Int {
    seconds <= 0 ? 1 : Int(min(seconds * 1000, Double(Int32.max)).rounded(.up))
}

/// Spaces, tabs and line ends around a header value.
private func isSpace(_ byte: UInt8) -> Bool {
    byte == 32 || byte == 9 || byte == 13 || byte == 10
}
