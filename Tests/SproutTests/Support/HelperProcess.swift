@testable import Sprout
@_exported import SproutTestSupport

import Glibc

/// What a helper executable printed and how it ended.
struct HelperRun {
    var status: ExitStatus
    var stdout: String
    var stderr: String
}

/// A temporary file that is removed when the value goes away.
final class TemporaryFile {
    let path: String
    let fd: Int32

    init() {
        var template = Array("/tmp/sprout-test-XXXXXX".utf8CString)
        fd = mkstemp(&template)
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var contents: String { readFile(path) ?? "" }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// Runs a helper executable to completion (killing it after `timeout` seconds), with its
/// output in files. `whenReady` runs once stdout contains `readyLine`.
@Hub
func runHelper(
    _ arguments: [String],
    executable: String = "sprout-test-helper",
    timeout: Double = 30,
    readyLine: String? = nil,
    whenReady: @Hub (SpawnedChild) throws -> Void = { _ in }
) async throws -> HelperRun {
    let out = TemporaryFile()
    let err = TemporaryFile()
    var spec = ChildSpec(executable: builtExecutable(executable))
    spec.arguments = arguments
    spec.stdio = [.ignore, .inherit(out.fd), .inherit(err.fd)]
    let child = try SpawnedChild(spec)
    if let readyLine {
        let deadline = monotonicNanoseconds() + nanoseconds(timeout)
        while !out.contents.contains(readyLine) && child.exitStatus == nil && monotonicNanoseconds() < deadline {
            try await sleep(0.01)
        }
        try whenReady(child)
    }
    guard let status = try await child.wait(timeout: timeout) else {
        try child.signal(SIGKILL)
        _ = try await child.wait()
        throw HelperTimedOut(arguments: arguments, stdout: out.contents, stderr: err.contents)
    }
    return HelperRun(status: status, stdout: out.contents, stderr: err.contents)
}

struct HelperTimedOut: Error, CustomStringConvertible {
    let arguments: [String]
    let stdout: String
    let stderr: String
    var description: String { "helper \(arguments) did not finish in time; stdout: \(stdout) stderr: \(stderr)" }
}

/// How many times `needle` occurs in `text` (non-overlapping).
func occurrences(of needle: String, in text: String) -> Int {
    let haystack = Array(text.utf8)
    let pattern = Array(needle.utf8)
    guard !pattern.isEmpty, haystack.count >= pattern.count else { return 0 }
    var count = 0
    var index = 0
    while index <= haystack.count - pattern.count {
        if haystack[index..<index + pattern.count].elementsEqual(pattern) {
            count += 1
            index += pattern.count
        } else {
            index += 1
        }
    }
    return count
}
