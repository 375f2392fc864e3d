import Glibc

extension HTTPServer {
    /// Every timeout and limit of an ``HTTPServer``, with defaults safe on the open
    /// internet; checked by ``validate()`` when the server is made.
    ///
    /// | setting | default | nginx | Node `http` (20) |
    /// |---|---|---|---|
    /// | ``headTimeout`` (whole head) | 30 s | `client_header_timeout` 60 s (per read) | `headersTimeout` 60 s |
    /// | ``bodyTimeout`` (between reads) | 60 s | `client_body_timeout` 60 s | `requestTimeout` 300 s (whole request) |
    /// | ``keepAliveTimeout`` | 5 s | `keepalive_timeout` 75 s | `keepAliveTimeout` 5 s |
    /// | ``writeTimeout`` (client reads nothing) | 60 s | `send_timeout` 60 s | none |
    /// | ``maxConnections`` | 90 % of the open-file limit | `worker_connections` 512 | none |
    /// | ``maxHeadBytes`` | 16 KiB | 1 KiB, then 4 × 8 KiB | 16 KiB |
    /// | ``maxBodyBytes`` | 16 MiB | 1 MiB | none |
    ///
    /// The head deadline counts from the head's first byte to its last, however slowly the
    /// bytes come: a client sending one byte every few seconds is closed when it passes
    /// (nginx's timeout restarts at every read). A connection that reaches a deadline is
    /// closed without an answer. Timeouts are checked by one sweep per server, a quarter of
    /// the shortest timeout apart (at most a second), so a connection is closed up to that
    /// long after its deadline and a request pays nothing for the bookkeeping.
    ///
    /// At ``maxConnections`` the server stops accepting: new clients wait in the kernel's
    /// backlog until a connection ends, while those already connected are served as usual.
    public struct Configuration: Sendable, Equatable {
        /// Seconds from a request head's first byte (or from the connection's start, for
        /// its first request) until the whole head must have arrived.
        public var headTimeout: Double
        /// Seconds a request body may go without a byte arriving.
        public var bodyTimeout: Double
        /// Seconds a connection may wait, idle, for its next request after a response.
        public var keepAliveTimeout: Double
        /// Seconds a client may take none of a response's queued bytes. While it does take
        /// them, the connection is not idle: its read deadline waits.
        public var writeTimeout: Double
        /// At most this many connections are served at once.
        public var maxConnections: Int
        /// Bytes allowed for the request line and headers together, and again for a
        /// chunked body's trailer fields (431 beyond).
        public var maxHeadBytes: Int
        /// Header fields allowed, and trailer fields (431 beyond).
        public var maxHeaderCount: Int
        /// Body bytes allowed, declared or chunked (413 beyond).
        public var maxBodyBytes: Int

        /// The largest ``maxBodyBytes`` accepted (1 TiB): sizes stay far from `Int`'s range.
        public static let largestBodyLimit = 1 << 40

        /// A configuration; every argument has the safe default of the table above.
        public init(
            headTimeout: Double = 30,
            bodyTimeout: Double = 60,
            keepAliveTimeout: Double = 5,
            writeTimeout: Double = 60,
            maxConnections: Int = Configuration.defaultMaxConnections,
            maxHeadBytes: Int = 16 * 1024,
            maxHeaderCount: Int = 100,
            maxBodyBytes: Int = 16 * 1024 * 1024
        ) {
            self.headTimeout = headTimeout
            self.bodyTimeout = bodyTimeout
            self.keepAliveTimeout = keepAliveTimeout
            self.writeTimeout = writeTimeout
            self.maxConnections = maxConnections
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }

        /// 90 % of the process's open-file limit (`RLIMIT_NOFILE`, soft), leaving the rest
        /// for everything else the program opens; 1,000 if the limit cannot be read.
        public static var defaultMaxConnections: Int {
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_000 }
            // An unlimited limit (RLIM_INFINITY, all ones) counts as 2^30.
            return max(1, Int(min(limit.rlim_cur, 1 << 30)) / 10 * 9)
        }

        /// Checks every setting.
        ///
        /// - Throws: ``HTTPServerConfigurationError`` naming the first setting out of range:
        ///   a timeout that is not a positive finite number of seconds, `maxConnections`
        ///   below 1, `maxHeadBytes` below 64, a negative `maxHeaderCount`, `maxBodyBytes`
        ///   outside `0...largestBodyLimit`.
        public func validate() throws(HTTPServerConfigurationError) {
            for (name, seconds) in [("headTimeout", headTimeout), ("bodyTimeout", bodyTimeout),
                                    ("keepAliveTimeout", keepAliveTimeout), ("writeTimeout", writeTimeout)] {
                guard seconds.isFinite, seconds > 0 else {
                    throw HTTPServerConfigurationError(setting: name, value: "\(seconds)", expected: "a positive finite number of seconds")
                }
            }
            guard maxConnections >= 1 else {
                throw HTTPServerConfigurationError(setting: "maxConnections", value: "\(maxConnections)", expected: "at least 1")
            }
            guard maxHeadBytes >= 64, maxHeadBytes <= Self.largestBodyLimit else {
                throw HTTPServerConfigurationError(setting: "maxHeadBytes", value: "\(maxHeadBytes)", expected: "64...\(Self.largestBodyLimit)")
            }
            guard maxHeaderCount >= 0 else {
                throw HTTPServerConfigurationError(setting: "maxHeaderCount", value: "\(maxHeaderCount)", expected: "0 or more")
            }
            guard maxBodyBytes >= 0, maxBodyBytes <= Self.largestBodyLimit else {
                throw HTTPServerConfigurationError(setting: "maxBodyBytes", value: "\(maxBodyBytes)", expected: "0...\(Self.largestBodyLimit)")
            }
        }

        /// The parser's share of the settings.
        var limits: HTTPRequestParser.Limits {
            HTTPRequestParser.Limits(maxHeadBytes: maxHeadBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
        }
    }
}
