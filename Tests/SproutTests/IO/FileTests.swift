import Testing
@testable import Sprout

import Glibc

@Suite("File", .heavy)
struct FileTests {
    static func path(_ name: String) -> String { "/tmp/sprout-test-\(getpid())-\(name)" }

    @Test
    func writeReadAppendRemove() async throws {
        let path = Self.path("file.txt")
        try await onHub {
            let big = patternBytes(3_000_000)
            try await File.write(big, to: path)
            #expect(sameBytes(try await File.read(path), big))
            try await File.write(Array("tail".utf8), to: path, append: true)
            #expect(try await File.read(path).count == big.count + 4)
            let file = try await File.open(path)
            #expect(try await file.read(upTo: 3) == Array(big[0..<3]))
            #expect(try await file.read(upTo: 2) == Array(big[3..<5]))
            file.close()
            await #expect(throws: IOError.self) { try await file.read() }
            try await File.remove(path)
            do {
                _ = try await File.read(path)
                Issue.record("read a removed file")
            } catch let error as IOError {
                #expect(error.name == "ENOENT")
                #expect(error.operation == "open")
                #expect(error.peer == path)
                #expect(error.errno == ENOENT)
            }
        }
    }

    @Test
    func sizeLimitAndDirectoryErrors() async throws {
        let path = Self.path("limit.txt")
        try await onHub {
            try await File.write([UInt8](repeating: 1, count: 100), to: path)
            await #expect(throws: IOError.self) { try await File.read(path, maxBytes: 10) }
            try await File.remove(path)
            do {
                _ = try await File.read("/tmp")
                Issue.record("read a directory as a file")
            } catch let error as IOError {
                #expect(error.name == "EISDIR")
            }
        }
    }
}
