import Testing
@testable import Sprout

import Glibc

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
