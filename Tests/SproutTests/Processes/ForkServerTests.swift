import Testing
@testable import Sprout
import SproutTestJobs

import Glibc

/// Workers forked from a fork server (``WorkerStart/forkServer``): they are the pool's
/// process's children, their exit statuses and signals reach the pool, the pool outlives
/// its fork server, and the program adopts none of its children's orphans.
@Suite("Fork server", .heavy)
struct ForkServerTests {
    /// Workers forked by the server are this process's children, run jobs, and a worker's
    /// end reaches the pool with its signal or exit code.
    @Test func workersForkedFromTheServerReportHowTheyEnded() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(pool.workers.allSatisfy { $0.startedChild is ForkedChild }, "the workers were forked by the server")
            #expect(try await pool.run(ParentPID(), timeout: 10) == getpid(), "workers are the pool's process's children")
            #expect(try await pool.run(Square(7), timeout: 10) == 49)
            try await expectAWorkerCrash(pool)
            await #expect {
                _ = try await pool.run(Die(code: 7), timeout: 10)
            } throws: { error in
                (error as? WorkerCrashed)?.status == .exited(7)
            }
            #expect(try await pool.run(Square(8), timeout: 10) == 64, "crashed workers were replaced")
            // A replacement's process is known once the server answers; it may not be ready yet.
            try await pool.waitUntil(timeout: 10) { $0.workers.count == $0.size && $0.workers.allSatisfy(\.isServing) }
            #expect(pool.workers.allSatisfy { $0.startedChild is ForkedChild }, "by workers the server forked")
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A program that calls `serveIfWorker` first forks its fork server there, and its
    /// pool's workers are forked from it (they have the program's own arguments) as the
    /// program's children.
    @Test func aProgramForksItsForkServerAtStartUp() async throws {
        let line = try await onHub {
            let program = try TestProgram(workerExecutable, ["fork-server-parents"])
            defer { program.finish() }
            return try await program.readLine(timeout: 20)
        }
        let fields = (line ?? "").split(separator: " ").dropFirst().map(String.init)
        try #require(fields.count == 5, "printed \(line ?? "nothing")")
        #expect(fields[1] == fields[0] && fields[2] == fields[0], "both workers' parent is the program: \(fields)")
        #expect(fields[3] == "fork-server-parents" && fields[4] == "fork-server-parents",
                "both workers were forked from the program's fork server: \(fields)")
    }

    /// SIGKILL on the fork server: its workers keep serving, a worker killed afterwards still
    /// reports its signal, and the replacement comes from a new fork server.
    @Test func thePoolOutlivesItsForkServer() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let first = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            kill(first, SIGKILL)
            #expect(try await survivors([first]).isEmpty)
            #expect(try await pool.run(Square(5), timeout: 10) == 25, "the old server's workers still serve")
            await #expect {
                _ = try await pool.run(Die(signal: SIGTERM), timeout: 10)
            } throws: { error in
                (error as? WorkerCrashed)?.status == .signaled(SIGTERM)
            }
            #expect(try await pool.run(Square(6), timeout: 10) == 36)
            let second = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(second != first, "a new fork server was started")
            // A replacement's process is known once the server answers; it may not be ready yet.
            try await pool.waitUntil(timeout: 10) { $0.workers.count == $0.size && $0.workers.allSatisfy(\.isServing) }
            #expect(pool.workers.allSatisfy { $0.startedChild is ForkedChild }, "the replacement came from the new server")
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [first, second])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// SIGKILL on the fork server while a worker start waits for its answer (the server is
    /// stopped, so it cannot fork): the start sees the server's end at once, runs the program
    /// again instead, and the next start gets a new fork server.
    @Test func aServerKilledDuringAStartCostsNoWorker() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let first = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            kill(first, SIGSTOP)
            // From another thread, so the kill does not wait on the hub.
            #expect(startDetachedThread { usleep(200_000); kill(first, SIGKILL) } == 0)
            let started = monotonicNanoseconds()
            try await expectAWorkerCrash(pool)
            #expect(try await pool.run(Square(4), timeout: 10) == 16)
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            #expect(seconds < slack(3), "the start waited \(seconds) s for a dead server")
            #expect(pool.workers.allSatisfy { $0.startedChild is SpawnedChild }, "the replacement ran the program again")
            return try await expectTheNextReplacementFromANewServer(pool, replacing: first)
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A stopped fork server (SIGSTOP) never holds the hub up: a timer keeps firing on time
    /// while a worker start waits for its answer; the server is given up on after its answer
    /// limit (killed), the worker starts by running the program again, and the next start
    /// gets a new fork server.
    @Test func aStoppedServerDoesNotBlockTheHub() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let first = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(try await pool.run(Square(2), timeout: 10) == 4)
            kill(first, SIGSTOP)
            let ticker = HubTicker()
            let ticking = spawn { try await ticker.run() }
            try await expectAWorkerCrash(pool)
            #expect(try await pool.run(Square(4), timeout: 10) == 16, "the replacement started")
            ticker.stopped = true
            try await ticking.get(timeout: 5)
            #expect(ticker.longestGap < slack(0.3), "the hub stopped for \(ticker.longestGap) s")
            #expect(pool.workers.allSatisfy { $0.startedChild is SpawnedChild }, "the replacement ran the program again")
            #expect(try await survivors([first]).isEmpty, "the stopped server was killed")
            return try await expectTheNextReplacementFromANewServer(pool, replacing: first)
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A spare that cannot see its server's end (it is stopped) holds the server's control
    /// socket open while a worker start waits on that server, which is stopped too and then
    /// given up on (`serverKilled` false) or killed (true): the spare is killed and reaped
    /// with its server, and the start runs the program again at once, neither abandoned
    /// after a second limit (a worker of pid 0 that "ended before it was ready") nor left
    /// waiting for a server that is gone. A ThreadSanitizer build's spare is such a slow one:
    /// its exit waits a second.
    @Test(arguments: [false, true]) func aStoppedSpareHoldsUpNoStart(serverKilled: Bool) async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let first = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            let spare = try await nextSpare()
            kill(spare, SIGSTOP)
            kill(first, SIGSTOP)
            let started = monotonicNanoseconds()
            // The replacement's request waits on the stopped server.
            try await expectAWorkerCrash(pool)
            if serverKilled { kill(first, SIGKILL) }
            #expect(try await pool.run(Square(4), timeout: 10) == 16, "the replacement started")
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            #expect(seconds < slack(3), "the start waited \(seconds) s")
            #expect(pool.workers.allSatisfy { $0.startedChild is SpawnedChild }, "the replacement ran the program again")
            #expect(try await unreaped([spare]).isEmpty, "the stopped spare of a dead server was left")
            return try await expectTheNextReplacementFromANewServer(pool, replacing: first)
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A worker forked just before its server died and killed before it could repeat the
    /// server's answer is a child of the program whose pid reached nobody. It is reaped when
    /// the server's control socket ends with a start pending, not left a zombie. Stood in
    /// for by a process the test starts in the server's process group (where such a worker
    /// is), since the real one lives for microseconds.
    @Test func anUnannouncedWorkerOfADeadServerIsReaped() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(try await pool.run(Square(2), timeout: 10) == 4)
            #expect(getpgid(server) == server, "the server leads a process group")
            // Each serving worker leads a group of its own, which dies with it (WorkerLoop.serve).
            #expect(pool.workerPIDs.allSatisfy { getpgid($0) == $0 }, "its workers left the server's group")
            let stranger = try #require(startSleeper(inGroup: server))
            defer {
                kill(stranger, SIGKILL)
                var status: Int32 = 0
                waitpid(stranger, &status, 0)
            }
            kill(server, SIGSTOP)
            // The replacement's start waits for the stopped server, which then dies.
            try await expectAWorkerCrash(pool)
            kill(server, SIGKILL)
            #expect(try await pool.run(Square(3), timeout: 10) == 9, "the replacement ran the program again")
            let deadline = monotonicNanoseconds() + nanoseconds(slack(3))
            while kill(stranger, 0) == 0, monotonicNanoseconds() < deadline { try await sleep(0.02) }
            #expect(kill(stranger, 0) != 0, "pid \(stranger) of the server's group was left (a zombie)")
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// The server forks a spare before it is asked: this process's child, no worker of any
    /// pool, which becomes the next worker (a killed worker's replacement is the spare);
    /// the server then forks the next spare, and every spare ends with its server.
    @Test func aSpareBecomesTheNextWorker() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            let spare = try await nextSpare()
            #expect(parentPID(spare) == getpid(), "the spare is this process's child")
            #expect(!pool.workerPIDs.contains(spare), "the spare is no worker")
            try await expectAWorkerCrash(pool)
            #expect(try await pool.run(Square(3), timeout: 10) == 9)
            #expect(pool.workerPIDs == [spare], "the replacement was the spare")
            let next = try await nextSpare(besides: [spare])
            await pool.terminate()
            ForkServerConnection.closeAll()
            #expect(try await unreaped([next]).isEmpty, "the spare ended with its server and was reaped")
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// SIGKILL on an idle spare: it is reaped (no zombie), the next worker is forked as
    /// without one, and the server forks a new spare.
    @Test func aKilledSpareCostsNoWorker() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            let spare = try await nextSpare()
            kill(spare, SIGKILL)
            #expect(try await unreaped([spare]).isEmpty, "the killed spare was reaped")
            try await expectAWorkerCrash(pool)
            #expect(try await pool.run(Square(3), timeout: 10) == 9)
            #expect(!pool.workerPIDs.contains(spare))
            #expect(pool.workers.allSatisfy { $0.startedChild is ForkedChild }, "the replacement was forked by the server")
            let next = try await nextSpare(besides: [spare])
            await pool.terminate()
            ForkServerConnection.closeAll()
            #expect(try await unreaped([next]).isEmpty, "the new spare ended with its server and was reaped")
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A spare killed after the server handed it a worker's request, before it read it (it
    /// is stopped meanwhile): that worker dies before its hello, as a forked one may, and is
    /// replaced; the pool serves on.
    @Test func aSpareKilledWithARequestInHandIsReplaced() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            let spare = try await nextSpare()
            kill(spare, SIGSTOP)
            try await expectAWorkerCrash(pool)
            // The server names the spare in its answer at once; the spare, stopped, has not
            // read the request.
            let deadline = monotonicNanoseconds() + nanoseconds(slack(3))
            while pool.workerPIDs != [spare], monotonicNanoseconds() < deadline { try await sleep(0.005) }
            #expect(pool.workerPIDs == [spare], "the replacement was handed to the spare")
            kill(spare, SIGKILL)
            #expect(try await pool.run(Square(4), timeout: 10) == 16, "the pool replaced the killed spare")
            #expect(!pool.workerPIDs.contains(spare))
            #expect(try await unreaped([spare]).isEmpty, "the killed spare was reaped")
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// SIGKILL on the fork server while its spare waits, with no start pending: the spare
    /// ends too and is reaped, the pool's worker serves on, and the next replacement comes
    /// from a new server. A `stopped` spare (SIGSTOP) never sees its socket's end, and held
    /// the server's control socket open: it stayed, stopped, for the program's life.
    @Test(arguments: [false, true]) func theSpareEndsWithItsServer(stopped: Bool) async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let first = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            let spare = try await nextSpare()
            // Ends it should the test fail: this process's child, reaped by its pidfd.
            defer { kill(spare, SIGKILL) }
            if stopped { kill(spare, SIGSTOP) }
            kill(first, SIGKILL)
            #expect(try await unreaped([spare]).isEmpty, "the spare of a dead server was left")
            #expect(try await pool.run(Square(5), timeout: 10) == 25, "the worker serves on")
            return try await expectTheNextReplacementFromANewServer(pool, replacing: first)
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// The spare stays while a pool of the program lives and ends with the last one: once
    /// the last pool's `shutdown()` has returned, the spare has been reaped, no child of the
    /// program is left in the server's group and the server forks no other; the next pool's
    /// start forks one again, which the pool's `terminate()` ends the same way.
    @Test func noSpareOutlivesTheLastPool() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let first = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            let second = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let spare = try await nextSpare()
            defer { kill(spare, SIGKILL) }
            try await first.shutdown()
            #expect(isAlive(spare), "the spare stays while a pool lives")
            try await second.shutdown()
            #expect(kill(spare, 0) != 0, "the spare was left after the last pool's shutdown()")
            try await sleep(slack(0.05))
            #expect(ForkServerConnection.sparePIDs(for: workerExecutable).isEmpty, "a spare was forked with no pool")
            #expect(children(inGroup: server).filter { $0 != server }.isEmpty, "children of the server's group were left")
            let third = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            #expect(ForkServerConnection.serverPID(for: workerExecutable) == server, "the same server")
            let next = try await nextSpare(besides: [spare])
            defer { kill(next, SIGKILL) }
            #expect(try await third.run(Square(3), timeout: 10) == 9)
            await third.terminate()
            #expect(kill(next, 0) != 0, "the spare was left after the last pool's terminate()")
            ForkServerConnection.closeAll()
            return try await survivors(first.spawnedPIDs + second.spawnedPIDs + third.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// The server SIGKILLed while the last pool's `shutdown()` runs with jobs queued, then
    /// every 3 ms a worker or a child of the current server's group: once `shutdown()` has
    /// returned and half a second has passed (a spare is announced within milliseconds), no
    /// child is left in the current server's group. Found from outside (accept, session 12:
    /// `accept-spare kills-in-shutdown` left a replacement server's spare in 10 of 15 rounds,
    /// at fcbfbe6): join() returned during a restart's pause, and the restart then started a
    /// server after the pool's end; join() now waits for a restart that is due.
    @Test func noSpareOutlivesTheLastPoolWhenItsServerIsKilledDuringShutdown() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            var spawned: [Int32] = []
            var servers: [Int32] = []
            var leftInGroup: [Int32] = []
            for _ in 0..<10 {
                let pool = try await ProcessPool(workers: 2, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
                let handles = try (0..<200).map { try pool.submit(Nap(seconds: $0 % 10 == 0 ? 0.002 : 0)) }
                let killer = spawn {
                    for step in 0..<6 {
                        let server = ForkServerConnection.serverPID(for: workerExecutable)
                        let victims = step == 0 ? [server].compactMap { $0 } : pool.workerPIDs + (server.map(children(inGroup:)) ?? [])
                        if let victim = victims.first { kill(victim, SIGKILL) }
                        try await sleep(0.003)
                    }
                }
                try await pool.shutdown()
                try await killer.get()
                for handle in handles { _ = try? await handle.get(timeout: 5) }
                spawned += pool.spawnedPIDs
                try await sleep(0.5)
                if let server = ForkServerConnection.serverPID(for: workerExecutable) {
                    servers.append(server)
                    leftInGroup += children(inGroup: server).filter { $0 != server && isAlive($0) }
                }
            }
            #expect(leftInGroup.isEmpty, "children left in the server's group after the last pool's shutdown(): \(leftInGroup)")
            for pid in leftInGroup { kill(pid, SIGKILL) }
            ForkServerConnection.closeAll()
            return try await survivors(spawned + servers + leftInGroup)
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// A fork server started by a parent that does not say it speaks the server's wire
    /// protocol (a build from before spares, which has no word for it) or says another
    /// (`executable:` may name a program of another build) forks no spare: that parent
    /// would not adopt it (``ForkServerMessage``'s `p`), and it would stay its zombie. The
    /// requested worker is still forked; its hello names its protocol, which such a parent
    /// refuses (`aWorkerOfAnotherProtocolVersionIsRefusedAtItsHello`). For a parent of its
    /// own protocol the server forks a spare after the worker.
    @Test(arguments: [nil, WorkerEnvironment.protocolVersion - 1, WorkerEnvironment.protocolVersion])
    func aServerForksSparesOnlyForAParentOfItsProtocol(parentProtocol: Int?) async throws {
        let left = try await onHub {
            let (server, control) = try ForkServerConnection.spawnServer(workerExecutable, protocolVersion: parentProtocol)
            _ = fcntl(control, F_SETFL, fcntl(control, F_GETFL) | O_NONBLOCK)
            var channel: [Int32] = [-1, -1]
            var passing: [Int32] = [-1, -1]
            try #require(socketpair(AF_UNIX, SocketPairKind.stream, 0, &channel) == 0)
            try #require(socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &passing) == 0)
            let request = ForkServerMessage(kind: .startWorker, numbers: [1], descriptors: [1, 2, channel[1], passing[1]])
            let sent = request.send(on: control)
            close(channel[1])
            close(passing[1])
            var messages: [ForkServerMessage] = []
            let hasProtocol = parentProtocol == WorkerEnvironment.protocolVersion
            if sent == 0 {
                try await read(control, into: &messages, within: slack(10)) { $0.contains { $0.kind == .started } }
                try await read(control, into: &messages, within: hasProtocol ? slack(5) : slack(0.3)) { $0.contains { $0.kind == .spare } }
            }
            let worker = messages.first { $0.kind == .started }.flatMap { $0.numbers.count == 2 ? $0.numbers[1] : nil }
            let spare = messages.first { $0.kind == .spare }.flatMap(\.numbers.first)
            // The worker exits at its channel's end, the server at its control socket's and
            // the spare at its socket's; both workers are this process's children.
            close(channel[0])
            close(passing[0])
            close(control)
            for pid in [worker, spare].compactMap({ $0 }) { try await reap(pid) }
            #expect(sent == 0, "the request was sent")
            #expect(worker != nil, "the server forked the requested worker")
            #expect((spare != nil) == hasProtocol, "a spare for a parent of protocol \(parentProtocol.map(String.init) ?? "none")")
            return try await survivors([server.pid] + [worker, spare].compactMap { $0 })
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// Starts `sleep 30` as this process's child in process group `group`; returns its pid.
    private func startSleeper(inGroup group: Int32) -> Int32? {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, group)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        let words = ["/bin/sleep", "30"]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sleep", nil, &attributes, arguments, environ) == 0 else { return nil }
        return pid
    }

    /// A descendant that daemonizes (a double fork, as `pg_ctl start` does) goes to init
    /// when its parent exits, not to a program that uses a fork server, so it leaves no
    /// zombie behind there; the workers' statuses still reach the pool.
    @Test func aDaemonizedDescendantIsNotAdopted() async throws {
        let left = try await onHub {
            defer { ForkServerConnection.closeAll() }
            let pool = try await ProcessPool(workers: 1, executable: workerExecutable, killGrace: 0.2, start: .forkServer)
            let server = try #require(ForkServerConnection.serverPID(for: workerExecutable))
            #expect(try await pool.run(Square(3), timeout: 10) == 9)
            let daemon = try #require(await startDaemon(seconds: 0.2), "the shell printed the daemon's pid")
            let deadline = monotonicNanoseconds() + nanoseconds(slack(3))
            while parentPID(daemon) == getpid(), monotonicNanoseconds() < deadline { try await sleep(0.02) }
            #expect(parentPID(daemon) != getpid(), "the daemon (pid \(daemon)) was adopted by this process")
            try await expectAWorkerCrash(pool)
            await pool.terminate()
            ForkServerConnection.closeAll()
            return try await survivors(pool.spawnedPIDs + [server])
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }

    /// Runs a shell that starts `sleep seconds` in the background and exits at once, the way
    /// a daemon's launcher does; returns the sleep's pid.
    @Hub
    private func startDaemon(seconds: Double) async throws -> Int32? {
        let script = "sleep \(seconds) </dev/null >/dev/null 2>&1 & echo $!"
        let output = try await Command("/bin/sh", arguments: ["-c", script], standardOutput: .pipe).output(timeout: 10)
        return String(decoding: output.standardOutput, as: UTF8.self).split(separator: "\n").first.flatMap { Int32($0) }
    }
}

/// The pid of the test worker's fork server's spare other than `besides`, once the server
/// has announced one.
@Hub
private func nextSpare(besides: [Int32] = []) async throws -> Int32 {
    let deadline = monotonicNanoseconds() + nanoseconds(slack(5))
    while monotonicNanoseconds() < deadline {
        if let spare = ForkServerConnection.sparePIDs(for: workerExecutable).first(where: { !besides.contains($0) }) { return spare }
        try await sleep(0.005)
    }
    throw Timeout(seconds: slack(5))
}

/// Reads fork server messages from `control` (non-blocking) into `messages` until `done`
/// holds for them or `seconds` have passed.
@Hub
private func read(_ control: Int32, into messages: inout [ForkServerMessage], within seconds: Double,
                  until done: ([ForkServerMessage]) -> Bool) async throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ForkServerMessage.maxBytes, alignment: 8)
    defer { buffer.deallocate() }
    let deadline = monotonicNanoseconds() + nanoseconds(seconds)
    while !done(messages), monotonicNanoseconds() < deadline {
        switch ForkServerMessage.receive(on: control, buffer: buffer) {
        case .message(let message):
            for fd in message.descriptors { close(fd) }
            messages.append(message)
        case .invalid:
            continue
        case .nothing:
            try await sleep(0.005)
        case .end:
            return
        }
    }
}

/// Reaps `pid`, a child of this process that is ending, within 5 s (else kills it first).
@Hub
private func reap(_ pid: Int32) async throws {
    let deadline = monotonicNanoseconds() + nanoseconds(slack(5))
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if monotonicNanoseconds() > deadline { kill(pid, SIGKILL) }
        try await sleep(0.005)
    }
}

/// Those of `pids` that still exist, running or zombies, after up to `seconds`: a child
/// that ended is gone only once reaped.
@Hub
private func unreaped(_ pids: [Int32], within seconds: Double = 5) async throws -> [Int32] {
    let deadline = monotonicNanoseconds() + nanoseconds(seconds)
    while true {
        let left = pids.filter { kill($0, 0) == 0 }
        if left.isEmpty || monotonicNanoseconds() > deadline { return left }
        try await sleep(0.02)
    }
}

/// Runs a job that SIGKILLs its worker and expects it to fail with that crash.
@Hub
private func expectAWorkerCrash(_ pool: ProcessPool) async throws {
    await #expect {
        _ = try await pool.run(Die(signal: SIGKILL), timeout: 10)
    } throws: { error in
        (error as? WorkerCrashed)?.status == .signaled(SIGKILL)
    }
}

/// After the fork server `first` was given up on: crashes the worker once more, expects its
/// replacement forked by a new server, ends the pool and returns the processes left.
@Hub
private func expectTheNextReplacementFromANewServer(_ pool: ProcessPool, replacing first: Int32) async throws -> [Int32] {
    try await expectAWorkerCrash(pool)
    #expect(try await pool.run(Square(5), timeout: 10) == 25)
    let second = try #require(ForkServerConnection.serverPID(for: workerExecutable))
    #expect(second != first, "a new fork server was started")
    #expect(pool.workers.allSatisfy { $0.startedChild is ForkedChild }, "the next replacement came from it")
    await pool.terminate()
    ForkServerConnection.closeAll()
    return try await survivors(pool.spawnedPIDs + [first, second])
}
