import Testing
@testable import Sprout
import SproutTestSupport

import Glibc

@Suite("SharedRegion")
struct SharedRegionTests {
    /// An owner killed by SIGKILL, before or after another process mapped its region, leaves
    /// nothing in /dev/shm, and its name no longer opens; a mapping made before the kill
    /// still works.
    @Test(arguments: ["before-open", "after-open"])
    func anOwnerKilledBySIGKILLLeavesNothingBehind(moment: String) async throws {
        try await onHub {
            let program = try TestProgram(workerExecutable, ["shared-array"])
            defer { program.finish() }
            guard let line = try await program.readLine(timeout: 20), line.hasPrefix("region ") else {
                try? program.child.signal(SIGKILL)
                _ = try? await program.child.wait(timeout: 10)
                throw Timeout(seconds: 20)
            }
            let coder = JSONProcessCoder()
            let name = Array(line.utf8.dropFirst(7))
            // Nothing here throws before the kill: the helper would be left waiting.
            let mapped = moment == "after-open" ? try? coder.decode(SharedArray<Int64>.self, from: name[...]) : nil
            #expect((mapped != nil) == (moment == "after-open"), "the live owner's region did not open")
            #expect(mapped?.values ?? [1, 2, 3] == [1, 2, 3])
            try program.child.signal(SIGKILL)
            #expect(try await program.child.wait(timeout: 10) == .signaled(SIGKILL))

            #expect(sharedMemoryNames(of: program.child.pid).isEmpty, "the killed owner left its names in /dev/shm")
            #expect(throws: SharedMemoryError.self, "the name of a dead owner's region still opens") {
                _ = try coder.decode(SharedArray<Int64>.self, from: name[...])
            }
            if let mapped {
                mapped[1] = 20
                #expect(mapped.values == [1, 20, 3], "a mapping outlives the region's owner")
            }
        }
    }

    /// An owner killed at a random moment while it makes and frees regions (in the middle
    /// of making one, while they live, while freeing one) leaves nothing in /dev/shm.
    @Test func anOwnerKilledWhileMakingRegionsLeavesNothingBehind() async throws {
        var random = SplitMix64(seed: testSeed())
        try await onHub {
            for _ in 0..<4 {
                let program = try TestProgram(workerExecutable, ["shared-array-churn"])
                defer { program.finish() }
                let line = try? await program.readLine(timeout: 20)
                #expect(line == "churning")
                // Not `sleep`, which throws when the test is cancelled: the kill must come.
                usleep(UInt32(Double.random(in: 0..<0.02, using: &random) * 1e6))
                try program.child.signal(SIGKILL)
                #expect(try await program.child.wait(timeout: 10) == .signaled(SIGKILL))
                #expect(sharedMemoryNames(of: program.child.pid).isEmpty, "the killed owner left its names in /dev/shm")
            }
        }
    }

    /// A name is opened only if it is a live region's: a freed region's name (its
    /// descriptor number taken by a new region), a path to a plain file, or anything else
    /// is refused with a typed error, never mapped.
    @Test func onlyALiveRegionsNameOpens() throws {
        var freed: SharedRegion? = try SharedRegion(size: 64)
        let stale = try #require(freed?.name)
        freed = nil
        let next = try SharedRegion(size: 64)
        #expect(throws: SharedMemoryError.self) { _ = try SharedRegion(opening: stale) }

        let file = "/tmp/sprout-region-test-\(getpid())"
        let fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer {
            close(fd)
            unlink(file)
        }
        #expect(ftruncate(fd, 4096) == 0)
        var info = stat()
        #expect(fstat(fd, &info) == 0)
        for name in ["/proc/\(getpid())/fd/\(fd)#\(info.st_ino)", file, "/proc/self/fd/\(fd)#\(info.st_ino)", "", "#", "/sprout-1-1"] {
            #expect(throws: SharedMemoryError.self, "\(name) was opened") { _ = try SharedRegion(opening: name) }
        }

        let opened = try SharedRegion(opening: next.name, atLeast: 64)
        opened.base.storeBytes(of: 42, as: Int64.self)
        #expect(next.base.load(as: Int64.self) == 42)
    }
}
