import Testing
@testable import Sprout

import Glibc

/// The helper executable next to the test bundle.
private func helperPath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let executable = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return directory + "/sprout-http-test-helper"
}

@Suite("HTTPClient and HTTPServer leave no descriptors behind", .heavy)
struct HTTPClientDescriptorTests {
    // In a child process of its own, so parallel tests cannot disturb the count.
    @Test
    func everyDescriptorIsClosed() async throws {
        let path = helperPath()
        try await onHub {
            var spec = ChildSpec(executable: path)
            spec.stdio = [.ignore, .inherit(2), .ignore]
            let child = try SpawnedChild(spec)
            let status = try await child.wait(timeout: 40)
            if status == nil { try? child.signal(SIGKILL); _ = try await child.wait(timeout: 5) }
            #expect(status == .exited(0))
        }
    }
}
