import CCurl
import Sprout

/// One request's easy handle and everything curl hands back for it: status, headers,
/// body (whole, or as a bounded queue of chunks when streamed) and the final result.
///
/// The greenlet that sent the request parks on ``waitForProgress(after:)``; curl's callbacks
/// and the multi handle's completion wake it.
@Hub
final class CurlTransfer {
    let easy: UnsafeMutableRawPointer
    let url: String
    let streaming: Bool
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    private(set) var status = 0
    private(set) var headers = HTTPHeaders()
    private(set) var effectiveURL: String
    /// The whole body (buffered mode).
    private(set) var body: [UInt8] = []
    /// Set once the final response's head is known (first body byte, or completion).
    private(set) var headersReady = false
    /// Set once a status line has arrived, so a failure after it is a broken body, not a missing response.
    private(set) var responded = false
    /// curl's result, once the transfer is over.
    private(set) var result: CURLcode?

    // Streaming: chunks not yet taken, and whether curl is paused because too many are queued.
    private var chunks: [[UInt8]] = []
    private var chunksHead = 0
    private var bufferedBytes = 0
    private var paused = false
    /// How much a streamed body may buffer before curl is paused.
    static let streamBufferLimit = 1 << 20

    private var waiter: Waiter<Void>?
    /// Counts curl's progress (head, chunk, completion), so a wait can tell whether any came
    /// since its caller last looked.
    private(set) var progress = 0

    init(easy: UnsafeMutableRawPointer, request: HTTPRequest, streaming: Bool, defaults: HTTPClient.Configuration) {
        self.easy = easy
        url = request.url
        effectiveURL = request.url
        self.streaming = streaming
        errorBuffer.initialize(to: 0)
        configure(request, defaults: defaults)
    }

    /// Frees what the transfer owns; the easy handle goes back to the multi handle's pool.
    func release(to multi: CurlMulti) {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        errorBuffer.deallocate()
        multi.recycle(easy)
    }

    private func configure(_ request: HTTPRequest, defaults: HTTPClient.Configuration) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        sprout_easy_setopt_pointer(easy, CURLOPT_URL, request.url)
        sprout_easy_setopt_pointer(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        sprout_easy_setopt_pointer(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        sprout_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        sprout_easy_setopt_pointer(easy, CURLOPT_USERAGENT, defaults.userAgent)
        if !defaults.useEnvironmentProxy {
            // An empty proxy disables curl's reading of the proxy variables (and its getenv calls).
            sprout_easy_setopt_pointer(easy, CURLOPT_PROXY, "")
        }
        sprout_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        sprout_easy_setopt_long(easy, CURLOPT_MAXREDIRS, max(0, request.maxRedirects))
        sprout_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout ?? defaults.connectTimeout))
        if let timeout = request.timeout {
            sprout_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, milliseconds(timeout))
        }
        sprout_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, defaults.verifyTLS ? 1 : 0)
        sprout_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, defaults.verifyTLS ? 2 : 0)

        sprout_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        sprout_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            return Hub.assumeIsolated { CurlTransfer.from(userdata).received(bytes) }
        }
        sprout_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        sprout_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            Hub.assumeIsolated { CurlTransfer.from(userdata).receivedHeaderLine(bytes) }
            return size * count
        }

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
        if let list {
            headerList = list
            sprout_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, list)
        }
    }

    nonisolated private static func from(_ pointer: UnsafeMutableRawPointer?) -> CurlTransfer {
        Unmanaged<CurlTransfer>.fromOpaque(pointer!).takeUnretainedValue()
    }

    // MARK: Curl's callbacks

    private func received(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !headersReady { markHeadersReady() }
        if !streaming {
            body.append(contentsOf: bytes)
            return bytes.count
        }
        if bufferedBytes >= Self.streamBufferLimit {
            paused = true
            return Int(CURL_WRITEFUNC_PAUSE)
        }
        chunks.append(Array(bytes))
        bufferedBytes += bytes.count
        wakeWaiter()
        return bytes.count
    }

    private func receivedHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        if bytes.starts(with: "HTTP/".utf8) {
            // A new response begins (after a redirect or a 100 Continue): forget the last one's fields.
            headers = HTTPHeaders()
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
            effectiveURL = String(cString: location)
        }
        wakeWaiter()
    }

    /// Called once when curl is done with the transfer (or it was aborted).
    func finish(_ code: CURLcode) {
        guard result == nil else { return }
        if !headersReady { markHeadersReady() }
        result = code
        wakeWaiter()
    }

    // MARK: The requesting greenlet's side

    /// Parks until curl makes progress (head, a chunk, completion) beyond `seen`, the
    /// ``progress`` the caller read when it last looked at the transfer; returns at once if
    /// some came meanwhile. Entering this method may hop executors (a caller that is not a
    /// greenlet), and curl may finish the transfer during that hop: a wake with nobody
    /// registered to take it would be lost, and the transfer, over, would never wake again.
    ///
    /// - Throws: `CancellationError` if the greenlet is killed; the caller aborts the transfer.
    func waitForProgress(after seen: Int) async throws {
        if progress != seen { return }
        let waiter = Waiter<Void>()
        self.waiter = waiter
        defer { if self.waiter === waiter { self.waiter = nil } }
        if case .cancelled = await park(waiter) { throw CancellationError() }
    }

    private func wakeWaiter() {
        progress &+= 1
        if let waiter {
            self.waiter = nil
            waiter.wake()
        }
    }

    /// The error curl's result stands for, or `nil` on success.
    var error: HTTPError? {
        guard let result, result != CURLE_OK else { return nil }
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(result))
        return HTTPError(code: result, url: url, message: message)
    }

    /// The next streamed chunk, or `nil` once the body is complete. Resumes curl when the
    /// queue has drained below half its limit.
    func takeChunk() -> [UInt8]? {
        guard chunksHead < chunks.count else { return nil }
        let chunk = chunks[chunksHead]
        chunks[chunksHead] = []
        chunksHead += 1
        if chunksHead == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            chunksHead = 0
        }
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
