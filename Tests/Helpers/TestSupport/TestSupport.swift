// What every test target shares: running a test's body as a bounded greenlet, and the
// size knob for the heavy tests.
import Sprout

import Glibc

/// Runs `body` as a greenlet and returns its result, failing with ``Timeout`` after
/// `seconds` — so a test body never blocks Swift's cooperative pool and never hangs.
public func onHub<T: Sendable>(
    seconds: Double = 30,
    _ body: @escaping @Hub @Sendable () async throws -> T
) async throws -> T {
    // Made in the test's own task: the greenlet keeps Swift Testing's current test, so an
    // `#expect` failing in it is reported against that test (a plain spawn starts with no
    // task-local values).
    try await spawnCarryingTaskLocals { try await withTimeout(seconds, body) }.get()
}

/// SPROUT_TEST_SCALE (default 1): how much heavier the heavy tests run.
public let testScale: Int = {
    guard let text = getenv("SPROUT_TEST_SCALE"), let scale = Int(String(cString: text)), scale > 0 else { return 1 }
    return scale
}()

/// Where `swift build` put the package's executables: beside the test bundle.
public func builtExecutable(_ name: String) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let path = String(decoding: buffer[0..<max(length, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var directory = path
    while !directory.isEmpty, directory.last != "/" { directory.removeLast() }
    // The test binary sits in …/debug/SproutPackageTests.xctest (a file on Linux).
    return directory + name
}
