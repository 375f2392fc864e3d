// The I/O calls that take a time, with a `Duration` beside `Double` seconds, as Swift's own
// `Task.sleep(for:)` does: `TCPStream.connect(host:port:timeout: .seconds(2))`,
// `command.output(timeout: .seconds(10))`. Each forwards to its `Double` twin.

/// Resolves `host` to socket addresses, waiting up to `timeout` for the resolver;
/// `getAddressInfo(host:port:timeout:)` with a `Duration`.
///
/// - Returns: the addresses in the resolver's order of preference, each with `port`.
/// - Throws: what `getAddressInfo(host:port:timeout:)` throws (``IOError``).
@Hub
public func getAddressInfo(host: String, port: Int, timeout: Duration) async throws -> [SocketAddress] {
    try await getAddressInfo(host: host, port: port, timeout: timeout.inSeconds)
}

/// Waits up to `timeout` until `fd` is readable; `waitReadable(_:timeout:)` with a `Duration`.
///
/// - Returns: `false` if `timeout` passed first.
/// - Throws: what `waitReadable(_:timeout:)` throws (``IOError``, `CancellationError`).
@Hub
public func waitReadable(_ fd: Int32, timeout: Duration) async throws -> Bool {
    try await waitReadable(fd, timeout: timeout.inSeconds)
}

/// Waits up to `timeout` until `fd` is writable; `waitWritable(_:timeout:)` with a `Duration`.
///
/// - Returns: `false` if `timeout` passed first.
/// - Throws: what `waitWritable(_:timeout:)` throws (``IOError``, `CancellationError`).
@Hub
public func waitWritable(_ fd: Int32, timeout: Duration) async throws -> Bool {
    try await waitWritable(fd, timeout: timeout.inSeconds)
}

extension TCPStream {
    /// Connects to `host`:`port` within `timeout`; `connect(host:port:timeout:)` with a
    /// `Duration`.
    ///
    /// - Throws: what `connect(host:port:timeout:)` throws (``IOError``).
    public static func connect(host: String, port: Int, timeout: Duration) async throws -> TCPStream {
        try await connect(host: host, port: port, timeout: timeout.inSeconds)
    }

    /// Connects to `address` within `timeout`; `connect(to:timeout:)` with a `Duration`.
    ///
    /// - Throws: what `connect(to:timeout:)` throws (``IOError``).
    public static func connect(to address: SocketAddress, timeout: Duration) async throws -> TCPStream {
        try await connect(to: address, timeout: timeout.inSeconds)
    }
}

extension UnixStream {
    /// Connects to the socket at `path` within `timeout`; `connect(path:timeout:)` with a
    /// `Duration`.
    ///
    /// - Throws: what `connect(path:timeout:)` throws (``IOError``).
    public static func connect(path: String, timeout: Duration) async throws -> UnixStream {
        try await connect(path: path, timeout: timeout.inSeconds)
    }
}

extension UDPSocket {
    /// Waits up to `timeout` for the next datagram; `receive(timeout:)` with a `Duration`.
    ///
    /// - Returns: the datagram and its sender.
    /// - Throws: what `receive(timeout:)` throws (``IOError`` `ETIMEDOUT` when `timeout` passes).
    public func receive(timeout: Duration) async throws -> (bytes: [UInt8], from: SocketAddress) {
        try await receive(timeout: timeout.inSeconds)
    }
}

extension Command {
    /// Runs the command to its end, for at most `timeout`; `output(timeout:maxBytes:)` with
    /// a `Duration`.
    ///
    /// - Returns: its exit status and what it wrote.
    /// - Throws: what `output(timeout:maxBytes:)` throws (``IOError``, `ETIMEDOUT` when
    ///   `timeout` passes).
    @Hub
    public func output(timeout: Duration, maxBytes: Int = 64 << 20) async throws -> CommandOutput {
        try await output(timeout: timeout.inSeconds, maxBytes: maxBytes)
    }
}

extension ChildCommand {
    /// Waits up to `timeout` for the child to end; `wait(timeout:)` with a `Duration`.
    ///
    /// - Returns: how it ended.
    /// - Throws: what `wait(timeout:)` throws (``IOError`` `ETIMEDOUT` when `timeout` passes;
    ///   the child keeps running).
    public func wait(timeout: Duration) async throws -> ExitStatus {
        try await wait(timeout: timeout.inSeconds)
    }
}

extension Signals {
    /// Waits up to `timeout` for the next signal; `wait(timeout:)` with a `Duration`.
    ///
    /// - Returns: the signal's number.
    /// - Throws: what `wait(timeout:)` throws (``IOError`` `ETIMEDOUT` when `timeout` passes).
    public func wait(timeout: Duration) async throws -> Int32 {
        try await wait(timeout: timeout.inSeconds)
    }

    /// Waits once, up to `timeout`, for any of `signals`; `wait(for:timeout:)` with a
    /// `Duration`.
    ///
    /// - Returns: the signal that arrived.
    /// - Throws: ``IOError`` if a signal cannot be watched, or `ETIMEDOUT` when `timeout` passes.
    public static func wait(for signals: Int32..., timeout: Duration) async throws -> Int32 {
        let watch = try Signals(signals)
        defer { watch.close() }
        return try await watch.wait(timeout: timeout.inSeconds)
    }
}

extension StreamServer {
    /// Stops accepting at once, lets running handlers finish for up to `timeout`, then kills
    /// those still running; `stop(timeout:)` with a `Duration`.
    public func stop(timeout: Duration) async {
        await stop(timeout: timeout.inSeconds)
    }
}
