import Glibc

/// A command to run as a child process — Python's `subprocess.run` / `Popen` for
/// greenlets. Waiting for it, and reading or writing its pipes, suspend only the calling
/// greenlet.
///
/// ```swift
/// let result = try await Command("git", arguments: ["status", "--short"]).output(timeout: 10)
/// print(result.status, String(decoding: result.standardOutput, as: UTF8.self))
///
/// let child = try Command("tail", arguments: ["-f", "log"], standardOutput: .pipe).spawn()
/// while case let line = try await child.standardOutput!.readUntil([10]), !line.isEmpty { ... }
/// ```
///
/// Children are started through libuv (which owns SIGCHLD for the process). Every child
/// still running when the hub shuts down (end of ``Hub/run(logger:_:)``, SIGINT, SIGTERM) gets
/// SIGTERM, then SIGKILL, so none is left behind as an orphan.
public struct Command: Sendable {
    /// Where a child's standard input comes from.
    public enum Input: Sendable {
        /// This process's standard input.
        case inherit
        /// Nothing: the child reads end of file.
        case null
        /// A pipe: write to ``ChildCommand/standardInput``.
        case pipe
        /// These bytes, then end of file (``output(timeout:maxBytes:)-(Double?,_)`` only; ``spawn()``
        /// treats it as `.pipe` and writes them in a greenlet of its own).
        case bytes([UInt8])
    }

    /// Where a child's standard output or error goes.
    public enum Output: Sendable {
        /// This process's own standard output or error.
        case inherit
        /// Discarded.
        case null
        /// A pipe: read ``ChildCommand/standardOutput`` / ``ChildCommand/standardError``,
        /// or get the bytes from ``output(timeout:maxBytes:)-(Double?,_)``.
        case pipe
    }

    /// The program: a path, or a name looked up in `PATH`.
    public var executable: String
    /// Arguments after the program name.
    public var arguments: [String]
    /// The child's whole environment; `nil` inherits this process's.
    public var environment: [String: String]?
    /// The child's working directory; `nil` keeps this process's.
    public var workingDirectory: String?
    /// Where the child's standard input comes from.
    public var standardInput: Input
    /// Where the child's standard output goes.
    public var standardOutput: Output
    /// Where the child's standard error goes.
    public var standardError: Output
    /// Starts the child in a process group of its own, so a terminal's Ctrl-C reaches
    /// only this process, which then decides (its shutdown stops the child).
    public var newProcessGroup: Bool

    /// A command; nothing runs until ``output(timeout:maxBytes:)-(Double?,_)`` or ``spawn()``.
    public init(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        standardInput: Input = .inherit,
        standardOutput: Output = .inherit,
        standardError: Output = .inherit,
        newProcessGroup: Bool = false
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.newProcessGroup = newProcessGroup
    }

    /// The command as a shell would show it, for errors.
    var commandLine: String { ([executable] + arguments).joined(separator: " ") }
}

/// What a finished command produced.
public struct CommandOutput: Sendable {
    /// How the child ended.
    public let status: ExitStatus
    /// Its standard output, when it was `.pipe` (the default for ``Command/output(timeout:maxBytes:)-(Double?,_)``).
    public let standardOutput: [UInt8]
    /// Its standard error, when it was `.pipe`.
    public let standardError: [UInt8]

    /// True when the child exited with code 0.
    public var succeeded: Bool { status == .exited(0) }
}
