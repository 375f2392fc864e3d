import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

/// Workers forked from a fork server (``WorkerStart/forkServer``): their exit statuses and
/// signals reach the pool, and the pool outlives its fork server.
@Suite("Fork server", .heavy)
struct ForkServerTests {
    /// Workers are the fork server's children, run jobs, and a worker's end reaches the
    /// pool with its signal or exit code (the server reports it).
    @Test func workersForkedFromTheServerReportHowTheyEnded() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(try await pool.run(ParentPID(), timeout: 10) == server, "workers are the fork server's children")
            #expect(try await pool.run(Square(7), timeout: 10) == 49)
            await #expect {
                _ = try await pool.run(Die(signal: SIGKILL), timeout: 10)
            } throws: { error in
                (error as? WorkerCrashed)?.status == .signaled(SIGKILL)
            }
            await #expect {
                _ = try await pool.run(Die(code: 7), timeout: 10)
            } throws: { error in
                (error as? WorkerCrashed)?.status == .exited(7)
            }
            #expect(try await pool.run(Square(8), timeout: 10) == 64, "crashed workers were replaced")
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A program that calls `serveIfWorker` first forks its fork server there, and its
    /// pool's workers are forked from it.
    @Test func aProgramForksItsForkServerAtStartUp() async throws {
        let line = try await onHub {
            let program = try TestProgram(workerExecutable, ["fork-server-parents"])
            defer { program.finish() }
            return try await program.readLine(timeout: 20)
        }
        let pids = (line ?? "").split(separator: " ").dropFirst().compactMap { Int32($0) }
        try #require(pids.count == 3, "printed \(line ?? "nothing")")
        #expect(pids[1] == pids[2] && pids[1] != pids[0] && pids[1] > 1, "both workers' parent is the fork server: \(pids)")
    }

    /// SIGKILL on the fork server: its workers keep serving, a worker killed afterwards still
    /// reports its signal (it is re-parented to the pool's process and reaped there), and the
    /// replacement comes from a new fork server.
    @Test func thePoolOutlivesItsForkServer() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let first = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            kill(first, SIGKILL)
            #expect(try await survivors([first]).isEmpty)
            #expect(try await pool.run(Square(5), timeout: 10) == 25, "the old server's workers still serve")
            #expect(try await pool.run(ParentPID(), timeout: 10) == getpid(), "workers were re-parented to the pool's process")
            await #expect {
                _ = try await pool.run(Die(signal: SIGTERM), timeout: 10)
            } throws: { error in
                (error as? WorkerCrashed)?.status == .signaled(SIGTERM)
            }
            #expect(try await pool.run(Square(6), timeout: 10) == 36)
            let second = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(second != first, "a new fork server was started")
            #expect(pool.workerPIDs.contains { parentPID($0) == second }, "the replacement came from the new server")
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [first, second])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }
}
