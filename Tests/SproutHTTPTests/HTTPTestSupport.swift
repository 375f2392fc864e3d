@testable import Sprout
import SproutHTTP
import Testing
@_exported import SproutTestSupport

import Glibc

/// A cheap checksum for large bodies (FNV-1a).
func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return value
}

/// `count` pseudo-random bytes, the same for the same seed.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        for index in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            buffer[index] = UInt8(truncatingIfNeeded: state)
        }
        initialized = count
    }
}

/// The helper executable (Tests/Helpers/HTTPHelper) next to the test bundle.
func helperPath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let executable = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return directory + "/sprout-http-test-helper"
}

/// A port nothing listens on right now (bound and released at once).
@Hub
func freePort() async throws -> Int {
    let probe = StreamServer(host: "127.0.0.1", port: 0) { _ in }
    try probe.start()
    let port = probe.port
    await probe.stop(timeout: 0)
    return port
}

/// A loopback server that answers every connection with `reply` after reading the
/// request head, then closes: for responses a well-behaved server never sends.
@Hub
func startCannedServer(_ reply: [UInt8]) throws -> StreamServer {
    let server = StreamServer(host: "127.0.0.1", port: 0) { stream in
        _ = try await stream.readUntil(Array("\r\n\r\n".utf8), maxLength: 65536)
        try await stream.write(reply)
        try await stream.shutdownWrite()
    }
    try server.start()
    return server
}

/// A Python HTTP server as a real peer: by default `python3 -m http.server` serving
/// `directory`, on a port it picks itself (port 0, so no other test can take it first).
/// The port is read from the "... port N ..." line it prints on standard output, through a
/// pipe watched by the hub.
@Hub
final class PythonHTTPServer {
    private(set) var port = 0
    private let child: SpawnedChild

    convenience init(directory: String) async throws {
        try await self.init(arguments: ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory])
    }

    /// `python3 -u arguments...`; the program must print its port as above.
    init(arguments: [String]) async throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw HubError(code: -errno, operation: "pipe") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var spec = ChildSpec(executable: "python3")
        spec.arguments = ["-u"] + arguments
        spec.stdio = [.ignore, .inherit(ends[1]), .ignore]
        do {
            child = try SpawnedChild(spec)
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        close(ends[1])
        defer { close(ends[0]) }
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let watcher = try FDWatcher(fd: ends[0])
        defer { watcher.close() }
        var line: [UInt8] = []
        while !line.contains(10) {
            guard try await watcher.waitReadable(timeout: 10) else { break }
            var chunk = [UInt8](repeating: 0, count: 256)
            let count = read(ends[0], &chunk, chunk.count)
            if count <= 0 { break }
            line += chunk[..<count]
        }
        let words = String(decoding: line, as: UTF8.self).split { $0 == " " || $0 == "\n" }
        if let index = words.firstIndex(of: "port"), index + 1 < words.count, let port = Int(words[index + 1]) {
            self.port = port
            return
        }
        try? child.signal(SIGKILL)
        _ = try await child.wait(timeout: 5)
        throw HTTPError.connectionRefused(url: "python3 \(arguments) did not start: \(String(decoding: line, as: UTF8.self))")
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Stops the server and reaps it.
    func stop() async throws {
        try? child.signal(SIGTERM)
        if try await child.wait(timeout: 5) == nil {
            try? child.signal(SIGKILL)
            _ = try await child.wait(timeout: 5)
        }
    }
}

/// Runs `executable arguments...` to completion with no output.
@Hub
func runProgram(_ executable: String, _ arguments: [String]) async throws -> Sprout.ExitStatus? {
    var spec = ChildSpec(executable: executable)
    spec.arguments = arguments
    spec.stdio = [.ignore, .ignore, .ignore]
    let child = try SpawnedChild(spec)
    return try await child.wait(timeout: 30)
}

/// A fresh temporary directory holding `files` (name → contents). Written before the
/// hub work starts, so no blocking file I/O runs on the hub.
func makeDirectory(files: [String: [UInt8]]) -> String {
    var template = Array("/tmp/sprout-http-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    for (name, bytes) in files {
        let file = fopen("\(path)/\(name)", "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return path
}

/// Removes a directory made by ``makeDirectory(files:)``.
func removeDirectory(_ path: String, files: [String]) {
    for name in files { unlink("\(path)/\(name)") }
    rmdir(path)
}

/// Expects `body` to throw the `HTTPError` case named `name` (`"connectionLost"`) for
/// `url`, whatever its reason text; records an issue for no error, another case, another
/// URL or another error type.
func expectHTTPError(
    _ name: String, url: String, _ comment: Comment? = nil,
    isolation: isolated (any Actor)? = #isolation,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected HTTPError.\(name) for \(url), got no error. \(comment?.description ?? "")", sourceLocation: sourceLocation)
    } catch let error as HTTPError {
        let caseName = Mirror(reflecting: error).children.first?.label ?? "\(error)"
        #expect(caseName == name, "expected HTTPError.\(name), got \(error). \(comment?.description ?? "")", sourceLocation: sourceLocation)
        #expect(error.url == url, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected HTTPError.\(name) for \(url), got \(error). \(comment?.description ?? "")", sourceLocation: sourceLocation)
    }
}
