// A PostgreSQL server of a suite's own: made in a temporary directory on a free port,
// stopped and deleted when the suite ends, so a plain `swift test` needs no set-up.
import Foundation
import Sprout
import SproutTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL server started for tests (as the `postgres` user when run as root, since
/// the server refuses to run as root), listening on 127.0.0.1 and a socket in its directory.
public struct PostgresTestServer: Sendable {
    /// `postgresql://postgres@127.0.0.1:PORT/postgres`.
    public let url: String
    /// Its TCP port.
    public let port: Int
    /// The temporary directory holding the data directory.
    public let directory: String
    /// The `-o` options `pg_ctl` started it with, and the network namespace it runs in.
    private let options: String
    private let namespace: String?
    /// The same server through its Unix socket (reachable from any network namespace).
    public var socketURL: String { "postgresql://postgres@/postgres?host=\(directory)/data&port=\(port)" }

    /// The server of the running suite (set by the ``PostgresServerTrait`` trait).
    @TaskLocal public static var current: PostgresTestServer?

    /// Where PostgreSQL's programs are, or `nil` if it is not installed (Debian keeps
    /// them off `PATH`, in /usr/lib/postgresql/VERSION/bin).
    public static let binDirectory: String? = {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let bin = "/usr/lib/postgresql/\(version)/bin"
            if access(bin + "/initdb", X_OK) == 0, access(bin + "/pg_ctl", X_OK) == 0 { return bin }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if access("\(directory)/initdb", X_OK) == 0, access("\(directory)/pg_ctl", X_OK) == 0 { return String(directory) }
        }
        return nil
    }()

    /// True when `initdb` and `pg_ctl` were found.
    public static var isAvailable: Bool { binDirectory != nil }

    /// Why the PostgreSQL suites skip, for `.enabled(if:)`.
    public static let missingMessage: Comment = "PostgreSQL is not installed (no initdb): run scripts/install-deps.sh (Debian packages postgresql, libpq-dev)"

    /// Makes a data directory and starts a server on a free port, listening on
    /// `listenAddresses`, inside network namespace `namespace` if given.
    ///
    /// - Throws: ``PostgresTestServerError`` naming the step that failed and its output.
    @Hub
    public static func start(
        maxConnections: Int = 100, listenAddresses: String = "127.0.0.1", namespace: String? = nil
    ) async throws -> PostgresTestServer {
        guard let bin = binDirectory else { throw PostgresTestServerError(step: "find initdb", output: "not installed") }
        var template = Array("/tmp/sprout-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PostgresTestServerError(step: "mkdtemp", output: String(cString: strerror(errno))) }
        let directory = String(cString: made)
        // mkdtemp makes it 0700: the postgres user must be able to reach its data directory.
        chmod(directory, 0o711)
        let data = directory + "/data"
        mkdir(data, 0o700)
        let asRoot = geteuid() == 0
        if asRoot {
            guard let user = getpwnam("postgres") else {
                throw PostgresTestServerError(step: "find the postgres user", output: "no such user")
            }
            chown(data, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let port = try freePort()
        let options = "-p \(port) -k \(data) -c listen_addresses=\(listenAddresses) -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=\(maxConnections)"
        func run(_ program: String, _ arguments: [String], step: String) async throws {
            try await runTool(bin, program, arguments, namespace: namespace, step: step)
        }
        do {
            try await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], step: "initdb")
            if namespace != nil {
                // initdb trusts loopback only; the namespaces' own subnets are the test's.
                let hba = try String(contentsOfFile: data + "/pg_hba.conf", encoding: .utf8)
                try (hba + "host all all samenet trust\n").write(toFile: data + "/pg_hba.conf", atomically: false, encoding: .utf8)
            }
            try await run("pg_ctl", ["-D", data, "-w", "-t", "30", "-l", data + "/server.log", "-o", options, "start"], step: "pg_ctl start")
        } catch {
            try? await removeDirectory(directory)
            throw error
        }
        do {
            watchdogs[directory] = try Command(
                "/bin/sh", arguments: ["-c", watchdogScript, "sprout-pg-watchdog", asRoot ? "root" : "", bin, directory],
                standardInput: .pipe, standardOutput: .null, standardError: .pipe, newProcessGroup: true
            ).spawn()
        } catch {
            // The server runs: stop it by hand, as its watchdog would have.
            _ = try? await Command(bin + "/pg_ctl", arguments: ["-D", data, "-m", "immediate", "-w", "stop"]).output(timeout: 60)
            try? await removeDirectory(directory)
            throw PostgresTestServerError(step: "start the watchdog", output: "\(error)")
        }
        return PostgresTestServer(url: "postgresql://postgres@127.0.0.1:\(port)/postgres", port: port, directory: directory,
                                  options: options, namespace: namespace)
    }

    /// Runs PostgreSQL's `program` from `bin` (as the `postgres` user when this process is
    /// root), inside `namespace` if given.
    ///
    /// - Throws: ``PostgresTestServerError`` naming `step`, with the program's output, if it fails.
    @Hub
    private static func runTool(_ bin: String, _ program: String, _ arguments: [String], namespace: String?, step: String) async throws {
        var command = geteuid() == 0
            ? Command("/usr/sbin/runuser", arguments: ["-u", "postgres", "--", bin + "/" + program] + arguments)
            : Command(bin + "/" + program, arguments: arguments)
        if let namespace {
            command = Command("/usr/sbin/ip", arguments: ["netns", "exec", namespace, command.executable] + command.arguments)
        }
        let output = try await command.output(timeout: 60)
        guard output.succeeded else {
            throw PostgresTestServerError(step: step, output: String(decoding: output.standardOutput + output.standardError, as: UTF8.self))
        }
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`: every process killed at
    /// once, WAL not yet written is lost, recovery runs at the next start) and starts it again
    /// on the same directory, port and options: for the tests of what a server crash undoes.
    ///
    /// - Throws: ``PostgresTestServerError`` if stopping or starting fails.
    @Hub
    package func crashAndRestart() async throws {
        try await shutDown(mode: "immediate")
        try await startAgain()
    }

    /// Stops the server with `pg_ctl stop -m mode` (`fast`: sessions ended, a checkpoint
    /// written) and keeps its directory, for ``startAgain()``: for the tests of what a client
    /// and a host do while the server is down and after it restarts.
    ///
    /// - Throws: ``PostgresTestServerError`` if `pg_ctl stop` fails.
    @Hub
    package func shutDown(mode: String = "fast") async throws {
        guard let bin = Self.binDirectory else { throw PostgresTestServerError(step: "find pg_ctl", output: "not installed") }
        try await Self.runTool(bin, "pg_ctl", ["-D", directory + "/data", "-m", mode, "-w", "stop"], namespace: namespace,
                               step: "pg_ctl stop -m \(mode)")
    }

    /// Starts the server stopped by ``shutDown(mode:)`` on the same directory, port and options.
    ///
    /// - Throws: ``PostgresTestServerError`` if `pg_ctl start` fails.
    @Hub
    package func startAgain() async throws {
        guard let bin = Self.binDirectory else { throw PostgresTestServerError(step: "find pg_ctl", output: "not installed") }
        let data = directory + "/data"
        try await Self.runTool(bin, "pg_ctl", ["-D", data, "-w", "-t", "30", "-l", data + "/server.log", "-o", options, "start"],
                               namespace: namespace, step: "pg_ctl start again")
    }

    /// Sends `signal` to every process of the server: the postmaster first (so it starts no
    /// session meanwhile), then its children (each session leads a process group of its own,
    /// so the postmaster's group is not enough). `SIGSTOP` makes a server that hangs without
    /// going down; `SIGCONT` lets it go on.
    ///
    /// - Throws: ``PostgresTestServerError`` if the postmaster's pid cannot be read or signalled.
    package func signalAll(_ signal: Int32) throws {
        let pid = try signalPostmaster(signal)
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, signal) }
    }

    /// Sends `signal` to the postmaster alone and returns its pid. `SIGSTOP` makes a server
    /// whose sessions go on but which makes no new one (connecting hangs); `SIGCONT` lets it
    /// go on.
    ///
    /// - Throws: ``PostgresTestServerError`` if the postmaster's pid cannot be read or signalled.
    @discardableResult
    package func signalPostmaster(_ signal: Int32) throws -> pid_t {
        let pidFile = directory + "/data/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let line = text.split(separator: "\n").first, let pid = pid_t(line) else {
            throw PostgresTestServerError(step: "read \(pidFile)", output: "no pid")
        }
        guard kill(pid, signal) == 0 else {
            throw PostgresTestServerError(step: "signal the postmaster \(pid)", output: String(cString: strerror(errno)))
        }
        return pid
    }

    /// Closes this process's end of the watchdog's pipe without waiting, as the kernel does
    /// when this process dies: for the test that checks the watchdog.
    @Hub
    package func abandon() {
        Self.watchdogs.removeValue(forKey: directory)?.standardInput?.close()
    }

    /// The watchdog of each running server, by directory: a shell whose standard input is a
    /// pipe from this process. When that pipe closes — ``stop()`` closes it, and so does the
    /// kernel when this process dies, even by SIGKILL — it stops the server at once and
    /// deletes its directory, so no server outlives its test process.
    @Hub private static var watchdogs: [String: ChildCommand] = [:]

    /// `$1` is `root` when the server runs as the `postgres` user, `$2` PostgreSQL's bin
    /// directory, `$3` the server's temporary directory. SIGTERM, SIGINT and SIGHUP (this
    /// process's shutdown, a terminal's Ctrl-C) stop the server too; the exit status is
    /// `pg_ctl stop`'s.
    private static let watchdogScript = #"""
        owner="$1" bin="$2" dir="$3"
        stop() {
            trap '' TERM INT HUP
            if [ "$owner" = root ]; then
                /usr/sbin/runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
            else
                "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
            fi
            status=$?
            rm -rf "$dir"
            exit $status
        }
        trap stop TERM INT HUP
        read -r _ || :
        stop
        """#

    /// Stops the server at once (no checkpoint: its data is thrown away) and deletes its directory.
    ///
    /// - Throws: ``PostgresTestServerError`` if `pg_ctl stop` fails.
    /// - Throws: ``PostgresTestServerError`` if `pg_ctl stop` fails or the watchdog does
    ///   not finish within 60 seconds.
    @Hub
    public func stop() async throws {
        guard let watchdog = Self.watchdogs.removeValue(forKey: directory) else { return }
        // End of file tells the watchdog to stop the server.
        watchdog.standardInput?.close()
        let errors = spawn { try await watchdog.standardError?.readToEnd() ?? [] }
        let status: Sprout.ExitStatus
        do {
            status = try await watchdog.wait(timeout: 60)
        } catch {
            try? watchdog.kill(SIGKILL)
            throw PostgresTestServerError(step: "pg_ctl stop", output: "the watchdog did not finish: \(error)")
        }
        let output = (try? await errors.get(timeout: 5)) ?? []
        guard status == .exited(0) else {
            throw PostgresTestServerError(step: "pg_ctl stop", output: "\(status): " + String(decoding: output, as: UTF8.self))
        }
    }

    @Hub
    private static func removeDirectory(_ directory: String) async throws {
        _ = try await Command("/bin/rm", arguments: ["-rf", directory]).output(timeout: 30)
    }

    /// A port nothing listens on now: bind port 0 and read what the kernel chose.
    private static func freePort() throws -> Int {
        let (fd, port) = try loopbackSocket(listening: false)
        close(fd)
        return port
    }
}

/// A step of starting or stopping the test server failed.
public struct PostgresTestServerError: Error, CustomStringConvertible {
    /// The step (`initdb`, `pg_ctl start`, …).
    public let step: String
    /// What it printed.
    public let output: String
    /// The step that failed and what it printed.
    public init(step: String, output: String) {
        self.step = step
        self.output = output
    }
    /// The step and its output.
    public var description: String { "PostgreSQL test server: \(step) failed: \(output)" }
}

/// A suite trait that starts a ``PostgresTestServer`` before the suite's first test and
/// stops it after the last; tests read it from ``PostgresTestServer/current``.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
    /// Once for the whole suite, not per test.
    public var isRecursive: Bool { false }

    /// Starts the server, runs the suite with it as ``PostgresTestServer/current``, stops it.
    ///
    /// - Throws: ``PostgresTestServerError`` if the server cannot start or stop; what the suite throws.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await onHub(seconds: 120) { try await PostgresTestServer.start() }
        do {
            try await PostgresTestServer.$current.withValue(server) { try await function() }
        } catch {
            try? await onHub(seconds: 60) { try await server.stop() }
            throw error
        }
        try await onHub(seconds: 60) { try await server.stop() }
    }
}

extension Trait where Self == PostgresServerTrait {
    /// Runs the suite against a PostgreSQL server of its own (see ``PostgresServerTrait``).
    public static var postgresServer: Self { PostgresServerTrait() }
}

/// The running suite's server URL.
///
/// - Throws: if no ``PostgresServerTrait`` is in effect.
public func postgresURL() throws -> String {
    try #require(PostgresTestServer.current, "the suite needs the .postgresServer trait").url
}
