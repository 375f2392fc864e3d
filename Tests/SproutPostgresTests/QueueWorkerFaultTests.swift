import Sprout
import SproutPostgres
import SproutPostgresTestSupport
import SproutTestJobs
import SproutTestSupport
import Testing

import Glibc

/// A worker host's faults (QueueWorker.swift), each injected at its moment with a real
/// server error: errors holding U+0000, an answer refused every time, its failure too, a SIGTERM
/// while a claim is in flight, a hand-back refused while draining (and then held up by a server
/// that makes no new session), refused lease extensions, a hung server and one that is down as
/// an answer goes, a listener cut off while a job is announced, a server that never answers
/// a host starting.
@Suite(.heavy(timeLimit: .seconds(180)), .postgresServer, .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage))
struct QueueWorkerFaultTests {
    @Test func errorsHoldingUPlus0000AreRecordedWithUPlusFFFDInItsPlace() async throws {
        try await QueueFixture.run(seconds: 90, host: .init(processes: 1), emptyTable: true) { fixture in
            // Job 20 throws an error whose text holds U+0000 and job 25's process writes it to
            // standard error and dies: their recorded errors are JSON in a jsonb column, which
            // refuses "\u0000" (22P05), so it is stored as U+FFFD. Job 30 returns such a
            // text: a text column stores it as it is.
            var jobs = (0..<40).map { EchoText("text \($0)") }
            jobs[20] = EchoText("nul \u{0} thrown", fails: true)
            jobs[25] = EchoText("nul \u{0} written", crashes: true)
            jobs[30] = EchoText("nul \u{0} returned")
            let handles = try await fixture.queue.submitAll(jobs)
            for (n, handle) in handles.enumerated() where n != 20 && n != 25 {
                #expect(try await handle.get(timeout: 30) == jobs[n].text)
            }
            do {
                _ = try await handles[20].get(timeout: 30)
                Issue.record("a job that threw succeeded")
            } catch let JobQueueError.failed(_, _, message) {
                #expect(message == "nul \u{FFFD} thrown")
            }
            do {
                _ = try await handles[25].get(timeout: 30)
                Issue.record("a job whose process died succeeded")
            } catch let JobQueueError.workerCrashed(_, description) {
                #expect(description.contains("nul \u{FFFD} written"), "\(description)")
            }
            let (status, output) = try await fixture.host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("refused 0"))
        }
    }

    @Test func anAnswerRefusedEveryTimeFailsAloneAndTheRestOfItsBatchIsRecorded() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Job 20's answer (succeeded) is refused every time, and so is every statement that
            // carries it with others; the failure recorded in its place goes through.
            try await Self.refuseUpdates(saying: "injected: answer refused", db, when: """
                NEW.state = 'succeeded' AND NEW.payload LIKE '%refuse this answer%'
                """)
            let host = try QueueHost(fixture.url, processes: 1, logToStandardOutput: true)
            defer { host.kill() }
            var jobs = (0..<40).map { EchoText("text \($0)") }
            jobs[20] = EchoText("refuse this answer")
            let handles = try await fixture.queue.submitAll(jobs)
            for (n, handle) in handles.enumerated() where n != 20 {
                #expect(try await handle.get(timeout: 30) == jobs[n].text)
            }
            do {
                _ = try await handles[20].get(timeout: 30)
                Issue.record("the job whose answer is refused succeeded")
            } catch let JobQueueError.unrecordable(job, message) {
                #expect(job.hasSuffix("EchoText"))
                #expect(message.contains("P0001: injected: answer refused"), "\(message)")
            }
            let row = try await db.query("SELECT state, attempts FROM sprout_jobs WHERE id = $1", [.int(handles[20].id)]).rows[0]
            #expect(row.values == [.text("failed"), .int(1)])
            try await Self.dropInjectedFaults(db)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("refused 0"), "\(output)")
        }
    }

    @Test func anAnswerRefusedForAWhileForAReasonNotItsOwnGoesAgainWholeAndIsRecorded() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // The marked job's answer is refused with a revoked privilege's SQLSTATE (42501)
            // for 2 s: nothing to do with the answer, which must go again whole and be
            // recorded once allowed, not replaced by a failure after three quick refusals.
            try await Self.refuseUpdates(saying: "injected: not allowed yet", code: "42501", db, when: """
                NEW.state = 'succeeded' AND NEW.payload LIKE '%not allowed yet%'
                """)
            let host = try QueueHost(fixture.url, processes: 1, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(EchoText("not allowed yet"))
            try await waitFor { try await db.query(
                "SELECT count(*)::int FROM sprout_jobs WHERE id = $1 AND finished_at IS NULL AND started_at IS NOT NULL",
                [.int(job.id)]).rows[0][0] == .int(1) }
            try await sleep(2)
            try await Self.dropInjectedFaults(db)
            #expect(try await job.get(timeout: 30) == "not allowed yet")
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("injected: not allowed yet"), "\(output)")
        }
    }

    @Test func anAnswerWhoseStatementTimesOutEveryTimeFailsAloneAndTheHostGoesOn() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // The marked job's answer takes the server longer than the host lets a statement
            // take (a third of the 9 s lease), then fails, every time: the host's own timeout,
            // not the server's refusal, ends each try. Its failure goes through.
            try await Self.refuseUpdates(saying: "injected: too slow", after: 3.3, db, when: """
                NEW.state = 'succeeded' AND NEW.payload LIKE '%too slow to record%'
                """)
            let host = try QueueHost(fixture.url, processes: 1, lease: 9, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(EchoText("too slow to record"))
            do {
                _ = try await job.get(timeout: 60)
                Issue.record("the job whose answer always times out succeeded")
            } catch let JobQueueError.unrecordable(_, message) {
                #expect(message.contains("no answer within 3.0 s"), "\(message)")
            }
            // The host went on meanwhile.
            #expect(try await fixture.queue.submit(EchoText("next")).get(timeout: 20) == "next")
            try await Self.dropInjectedFaults(db)
            #expect(try await host.stop().0 == .exited(0))
        }
    }

    @Test func anAnswerHeldUpByAHungServerIsRecordedOnceItIsBack() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            // Leases of 1.5 s: statements and connecting may take 0.5 s.
            let host = try QueueHost(fixture.url, processes: 1, lease: 1.5, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(Nap(seconds: 1))
            try await waitFor { try await fixture.state(of: job.id) == "running" }
            // The server hangs (stopped, not down) as the job ends, for more than two leases:
            // each try of its answer times out, and so does connecting. That is the server's
            // fault, not the answer's: once it is back the answer is recorded, not replaced
            // by `unrecordable` nor given up (its job run again).
            try fixture.server.signalAll(SIGSTOP)
            defer { try? fixture.server.signalAll(SIGCONT) }
            try await sleep(4)
            try fixture.server.signalAll(SIGCONT)
            #expect(try await job.get(timeout: 30) == 1)
            #expect(try await fixture.db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(1))
            #expect(try await host.stop().0 == .exited(0))
        }
    }

    @Test func anAnswerThatFindsTheServerDownIsSentAgainOnceItIsBackAndOnlyOnce() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            let host = try QueueHost(fixture.url, processes: 1, lease: 5, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(Nap(seconds: 0.5))
            try await waitFor { try await fixture.state(of: job.id) == "running" }
            // Down (not hung) as the job ends: each try of its answer fails to connect, at
            // once. It waits once, whatever the tries: sent once the server is back, it is
            // recorded, and no copy of it goes again to be refused.
            try await fixture.server.shutDown()
            try await sleep(2)
            try await fixture.server.startAgain()
            #expect(try await job.get(timeout: 30) == 0.5)
            // The fixture's connection ended with the server.
            let db = try await PostgresConnection.connect(fixture.url)
            defer { db.close() }
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(1))
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            // No copy left by each failed connect (one per try: "refused 5" when each left
            // one). One refusal is legitimate: an answer in flight as the server went down
            // may have committed before its reply was lost, and its copy sent again is refused.
            #expect((QueueHost.refusedAnswers(in: output) ?? .max) <= 1, "\(output)")
        }
    }

    @Test func anOutcomeRefusedEvenAsAFailureIsGivenUpAndItsLeaseRunsOut() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Every change that ends the marked job's run on a host (its answer, the failure
            // recorded in its place) is refused; those made when its lease runs out (no
            // worker any more) go through.
            try await Self.refuseUpdates(saying: "injected: outcome refused", db, when: """
                OLD.state = 'running' AND NEW.state <> 'running' AND NEW.worker IS NOT NULL
                AND NEW.payload LIKE '%refuse me%'
                """)
            let host = try QueueHost(fixture.url, processes: 1, lease: 1, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(EchoText("refuse me"), maxAttempts: 2)
            do {
                _ = try await job.get(timeout: 60)
                Issue.record("a job whose outcome is always refused succeeded")
            } catch let JobQueueError.leaseExpired(_, attempts) {
                #expect(attempts == 2)
            }
            // The host went on meanwhile.
            #expect(try await fixture.queue.submit(EchoText("next")).get(timeout: 20) == "next")
            try await Self.dropInjectedFaults(db)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("gave up recording job \(job.id)"), "\(output)")
        }
    }

    @Test func aClaimInFlightAtSIGTERMHandsItsJobsBackAndWakesTheOtherHosts() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            let host = try QueueHost(fixture.url, processes: 1, lease: 30)
            defer { host.kill() }
            try await Self.slowClaims(of: "slow claim", db)
            let listener = try await PostgresConnection.connect(fixture.url)
            defer { listener.close() }
            try await listener.listen("sprout_jobs_available")
            let job = try await fixture.queue.submit(EchoText("slow claim"))
            try await waitFor { try await db.query(Self.sleeping).rows[0][0] == .int(1) }
            // The submission's notification, read and dropped.
            while try await listener.nextNotification(timeout: 0.2) != nil {}
            let (status, _) = try await host.stop()
            #expect(status == .exited(0))
            // The claim came back after SIGTERM: its job was handed back, not started.
            let row = try await db.query("SELECT state, attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0]
            #expect(row.values == [.text("available"), .int(0)])
            #expect(try await listener.nextNotification(timeout: 5) != nil, "no wake-up for the other hosts")
            try await Self.dropInjectedFaults(db)
            let other = try QueueHost(fixture.url, processes: 1)
            defer { other.kill() }
            #expect(try await job.get(timeout: 30) == "slow claim")
            #expect(try await other.stop().0 == .exited(0))
        }
    }

    @Test func aClaimThatFailsAfterSIGTERMIsAnnouncedBeforeTheHostLeaves() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // The host logs in as a role of its own, which the test can bar from logging in.
            let url = try await Self.hostRoleURL(fixture)
            let host = try QueueHost(url, processes: 1, lease: 30)
            defer { host.kill() }
            try await Self.slowClaims(of: "failed claim", db, seconds: 30)
            let listener = try await PostgresConnection.connect(fixture.url)
            defer { listener.close() }
            try await listener.listen("sprout_jobs_available")
            let job = try await fixture.queue.submit(EchoText("failed claim"))
            try await waitFor { try await db.query(Self.sleeping).rows[0][0] == .int(1) }
            while try await listener.nextNotification(timeout: 0.2) != nil {}
            // SIGTERM while the claim is in flight; then the server ends the claim's session
            // (rolled back: its job is available again, unannounced) and refuses the host's
            // new sessions, so the wake-up it owes the other hosts cannot go at once.
            try await db.execute("ALTER ROLE test_host NOLOGIN")
            let stopping = spawn { try await host.stop() }
            try await sleep(0.5)
            try await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")
            try await sleep(1)
            try await db.execute("ALTER ROLE test_host LOGIN")
            // The host stays until the wake-up has gone.
            #expect(try await listener.nextNotification(timeout: 10) != nil, "the host left without announcing the failed claim's job")
            #expect(try await stopping.get().0 == .exited(0))
            let row = try await db.query("SELECT state, attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0]
            #expect(row.values == [.text("available"), .int(0)])
            try await Self.dropInjectedFaults(db)
            let other = try QueueHost(fixture.url, processes: 1)
            defer { other.kill() }
            #expect(try await job.get(timeout: 30) == "failed claim")
            #expect(try await other.stop().0 == .exited(0))
        }
    }

    @Test func aDrainWhoseLastAnswerCannotReachTheServerGivesUpAfterALease() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            let url = try await Self.hostRoleURL(fixture)
            let host = try QueueHost(url, processes: 1, lease: 2, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(Nap(seconds: 1))
            try await waitFor { try await fixture.state(of: job.id) == "running" }
            // The host is cut off from the server while its job runs: its sessions ended, new
            // ones refused. SIGTERM: it drains, and its answer cannot be sent.
            try await db.execute("""
                ALTER ROLE test_host NOLOGIN;
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'test_host';
                """)
            let signalled = monotonicSeconds()
            let (status, output) = try await host.stop(timeout: 20)
            let waited = monotonicSeconds() - signalled
            print("a drain that could not reach the server gave up \(waited) s after SIGTERM (lease 2 s)")
            #expect(status == .exited(1))
            #expect(output.contains("draining, gave up after 2.0 s") && output.contains("serve threw"), "\(output)")
            #expect(waited >= 2 && waited < slack(8))
            // Its lease has run out: another host runs the job again.
            try await db.execute("ALTER ROLE test_host LOGIN")
            let other = try QueueHost(fixture.url, processes: 1, lease: 2)
            defer { other.kill() }
            #expect(try await job.get(timeout: 30) == 1)
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(2))
            #expect(try await other.stop().0 == .exited(0))
        }
    }

    @Test func aDrainCountsALeaseOfFailuresFromItsLastAnswersFirstFailureNotAnEarlierOne() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            let url = try await Self.hostRoleURL(fixture)
            // Leases of 3 s: statements may take 1 s.
            let host = try QueueHost(url, processes: 1, lease: 3, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(Nap(seconds: 6))
            try await waitFor { try await fixture.state(of: job.id) == "running" }
            let started = monotonicSeconds()
            let stopping = spawn { try await host.stop(timeout: 30) }
            try await sleep(0.3)
            // While it drains, one of its lanes fails once and then succeeds at a statement
            // that is neither a claim nor an answer: the table is locked for longer than a
            // statement may take, and the host's listener cut, so that a lane asks the table
            // which running jobs were withdrawn (it times out, then goes through).
            let listener = "SELECT pid FROM pg_stat_activity WHERE usename = 'test_host' AND query = 'LISTEN \"sprout_jobs_cancel\"'"
            try await db.transaction { db in
                try await db.execute("LOCK TABLE sprout_jobs IN ACCESS EXCLUSIVE MODE")
                try await db.query("SELECT pg_terminate_backend(pid) FROM (\(listener)) AS listener")
                try await sleep(1.5)
            }
            try await sleep(0.5)
            // Then it is cut off before its job ends: its answer cannot be sent. It gives up a
            // lease (3 s) after that answer first failed (the job's end, 6 s in), not at once
            // because a lane failed more than a lease before.
            try await db.execute("""
                ALTER ROLE test_host NOLOGIN;
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'test_host';
                """)
            let (status, output) = try await stopping.get()
            let waited = monotonicSeconds() - started
            print("a drain whose last answer could not be sent gave up \(waited) s after its 6 s job started (lease 3 s)")
            try await db.execute("ALTER ROLE test_host LOGIN")
            #expect(status == .exited(1))
            #expect(output.contains("draining, gave up after 3.0 s"), "\(output)")
            #expect(waited >= 8.5, "\(output)")
            try await fixture.queue.cancel(jobID: job.id)
        }
    }

    @Test func aDrainWhoseHandBackIsRefusedEndsAndTheJobRunsElsewhere() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Leases of 6 s: statements may take 2 s, the slowed claim 1 s.
            let host = try QueueHost(fixture.url, processes: 1, lease: 6, logToStandardOutput: true)
            defer { host.kill() }
            try await Self.slowClaims(of: "handed back", db)
            // A hand-back (available again, never started) of the marked job is refused.
            try await Self.refuseUpdates(saying: "injected: hand-back refused", db, when: Self.handBackOfTheMarkedJob)
            let job = try await fixture.queue.submit(EchoText("handed back"))
            try await waitFor { try await db.query(Self.sleeping).rows[0][0] == .int(1) }
            let (status, output) = try await host.stop(timeout: 20)
            #expect(status == .exited(0))
            #expect(output.contains("gave up handing back 1 jobs"), "\(output)")
            // Its lease runs out (the host is gone) and another host runs it.
            try await Self.expectRunElsewhere(job, fixture, lease: 2)
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(2))
        }
    }

    @Test func aHandBackRefusedTwiceIsNotGivenUpForAServerThatCannotBeReached() async throws {
        // The third try sleeps in the server (its session is ended below). Then the server makes
        // no new session (its postmaster stopped, not its sessions: nothing sent meanwhile runs
        // once it is back) and the host's sessions are ended: each try connects and times out
        // after 4 s. Back before the leases, not extended meanwhile, run out.
        try await Self.expectHandBackNotGivenUp(thirdTry: "PERFORM pg_sleep(60);") { fixture in
            try fixture.server.signalPostmaster(SIGSTOP)
            defer { _ = try? fixture.server.signalPostmaster(SIGCONT) }
            try await fixture.db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'test_host'")
            try await sleep(5.5)
            try fixture.server.signalPostmaster(SIGCONT)
        }
    }

    @Test func aHandBackPastItsTimeLimitWhileTheServerAnswersCountsAsRefusedAndIsGivenUp() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Leases of 3 s: statements may take 1 s. Each hand-back of the marked job takes the
            // server 2 s and is then refused: the host's time limit ends every try while the
            // server runs `SELECT 1` at once, so each counts as the hand-back's own refusal.
            try await Self.refuseUpdates(saying: "injected: too slow", after: 2, db, when: Self.handBackOfTheMarkedJob)
            let host = try QueueHost(fixture.url, processes: 1, lease: 3, logToStandardOutput: true)
            defer { host.kill() }
            // The drain waits for the nap, so no failure of the drain's own gives up first.
            let (nap, job) = try await Self.napThenMarkedJob(fixture, napSeconds: 6)
            let (status, output) = try await host.stop(timeout: 40)
            #expect(status == .exited(0), "\(output)")
            #expect(output.contains("gave up handing back 1 jobs") && output.contains("no answer within 1.0 s"), "\(output)")
            // Its lease kept meanwhile: the heartbeats, in a session of their own, do not wait
            // behind the hand-back's tries.
            #expect(try await nap.get(timeout: 5) == 6)
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(nap.id)]).rows[0][0] == .int(1))
            // Given up, the hand-back's lease runs out and another host runs the job.
            try await Self.expectRunElsewhere(job, fixture, lease: 2)
        }
    }

    @Test func aHandBackPastItsTimeLimitWhileTheServerTakesNoSessionIsNotCountedAsRefused() async throws {
        // The third try takes the server 6 s and is then refused; meanwhile the server takes no
        // new session of the host's (its sessions stay). Past its 4 s the try ends, and `SELECT 1`,
        // on a new session, is refused. Let in again after that check.
        try await Self.expectHandBackNotGivenUp(thirdTry: "PERFORM pg_sleep(6); RAISE EXCEPTION 'injected: hand-back refused late';") { fixture in
            try await fixture.db.execute("ALTER ROLE test_host NOLOGIN")
            try await sleep(6)
            try await fixture.db.execute("ALTER ROLE test_host LOGIN")
        }
    }

    @Test func aJobAnnouncedWhileTheHostsListenerReconnectsIsClaimedOnceItListensAgain() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            let url = try await Self.hostRoleURL(fixture)
            // Leases of 30 s: without a wake-up, an idle host claims only every 10 s.
            let host = try QueueHost(url, processes: 1, lease: 30)
            defer { host.kill() }
            #expect(try await fixture.queue.submit(Square(2)).get(timeout: 30) == 4)
            // The host's listener cut off and kept out (its other sessions stay): the next
            // job's NOTIFY reaches nobody.
            let listeners = "SELECT count(*)::int FROM pg_stat_activity WHERE usename = 'test_host' AND query LIKE 'LISTEN%'"
            try await waitFor { try await db.query(listeners).rows[0][0] == .int(1) }
            try await db.execute("ALTER ROLE test_host NOLOGIN")
            try await db.execute("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'test_host' AND query LIKE 'LISTEN%'
                """)
            try await waitFor { try await db.query(listeners).rows[0][0] == .int(0) }
            let job = try await fixture.queue.submit(Square(3))
            try await sleep(0.5)
            #expect(try await fixture.state(of: job.id) == "available")
            let started = monotonicSeconds()
            try await db.execute("ALTER ROLE test_host LOGIN")
            #expect(try await job.get(timeout: 30) == 9)
            let waited = monotonicSeconds() - started
            print("a job announced while the host's listener was out ran \(waited) s after it could listen again")
            // The listener's next try (its backoff is 1 s at most), then a claim: not the
            // timed claim, 10 s after the host's last statement.
            #expect(waited < slack(4))
            #expect(try await host.stop().0 == .exited(0))
        }
    }

    @Test func aHostWhoseServerNeverAnswersGivesUpStartingAfterThirtySeconds() async throws {
        // A port that takes connections (into the kernel's backlog) and never answers: a server
        // hung before the host could connect and migrate.
        let (fd, port) = try loopbackSocket(listening: true)
        defer { close(fd) }
        let url = "postgresql://postgres@127.0.0.1:\(port)/postgres"
        try await onHub(seconds: 90) {
            let started = monotonicSeconds()
            let host = try QueueHost(url, processes: 1)
            defer { host.kill() }
            let output = String(decoding: try await host.child.standardOutput!.readToEnd(maxLength: 1 << 16), as: UTF8.self)
            let status = try await host.child.wait(timeout: 10)
            let waited = monotonicSeconds() - started
            print("a host whose server never answers exited after \(waited) s: \(output)")
            #expect(status == .exited(1) && output.contains("serve threw: PostgreSQL: no answer within 30.0 s"), "\(status): \(output)")
            #expect(waited >= 29 && waited < 30 + slack(5))
        }
    }

    @Test(arguments: [true, false])
    func aHostsClaimsNeverWaitForTheDiskAndItsOtherStatementsDoAsDurableAnswersSays(durable: Bool) async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Each change of a row noted with the `synchronous_commit` its statement commits under.
            try await db.execute("""
                DROP TABLE IF EXISTS test_commits; CREATE TABLE test_commits (change text, setting text);
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO test_commits VALUES (CASE
                        WHEN OLD.state = 'available' AND NEW.state = 'running' THEN 'claim'
                        WHEN OLD.state = 'running' AND NEW.state = 'running' AND NEW.lease_expires_at > OLD.lease_expires_at
                            THEN 'lease extension'
                        WHEN OLD.state = 'running' AND NEW.state = 'available' THEN 'hand-back'
                        WHEN OLD.state = 'running' AND NEW.state = 'succeeded' THEN 'answer'
                        ELSE OLD.state || ' to ' || NEW.state END, current_setting('synchronous_commit'));
                    RETURN NULL;
                END $$;
                CREATE TRIGGER test_refuse AFTER UPDATE ON sprout_jobs FOR EACH ROW EXECUTE FUNCTION test_refuse();
                """)
            // Leases of 1.5 s: a beat every 0.5 s while the nap runs; SIGTERM hands the marked job back.
            let host = try QueueHost(fixture.url, processes: 1, lease: 1.5, durableAnswers: durable)
            defer { host.kill() }
            let (nap, job) = try await Self.napThenMarkedJob(fixture, napSeconds: 1.5)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0), "\(output)")
            #expect(try await nap.get(timeout: 5) == 1.5)
            var settings: [String: Set<String>] = [:]
            for row in try await db.query("SELECT DISTINCT change, setting FROM test_commits").rows {
                settings[row[0].string ?? "?", default: []].insert(row[1].string ?? "?")
            }
            let answers: Set = [durable ? "on" : "off"]
            #expect(settings == ["claim": ["off"], "lease extension": answers, "answer": answers, "hand-back": answers], "durableAnswers \(durable)")
            try await db.execute("DROP TABLE test_commits")
            try await Self.expectRunElsewhere(job, fixture)
        }
    }

    @Test func refusedLeaseExtensionsDoNotStopTheHostReQueueingExpiredLeases() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Every extension of the marked job's lease is refused.
            try await Self.refuseLeaseExtensions(ofPayloadLike: "%3.25%", db)
            let host = try QueueHost(fixture.url, processes: 1, lease: 1, logToStandardOutput: true)
            defer { host.kill() }
            // Longer than its lease: without extensions, its lease runs out at each run and the
            // host's own re-queueing of expired leases (the heartbeat's next statement) takes
            // it back, until its attempts are spent.
            let job = try await fixture.queue.submit(Nap(seconds: 3.25), maxAttempts: 2)
            do {
                _ = try await job.get(timeout: 60)
                Issue.record("a job whose lease could not be extended kept it")
            } catch let JobQueueError.leaseExpired(_, attempts) {
                #expect(attempts == 2)
            }
            #expect(try await fixture.queue.submit(Square(7)).get(timeout: 20) == 49)
            try await Self.dropInjectedFaults(db)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("injected: heartbeat refused"), "\(output)")
        }
    }

    @Test func aLeaseExtensionRefusedForOneJobHoldsBackNoOtherLease() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Every extension of the marked job's lease is refused; the other job, running
            // beside it on the host's second process and as long, must keep its lease.
            try await Self.refuseLeaseExtensions(ofPayloadLike: "%3.25%", db)
            let host = try QueueHost(fixture.url, processes: 2, lease: 1, logToStandardOutput: true)
            defer { host.kill() }
            let refused = try await fixture.queue.submit(Nap(seconds: 3.25), maxAttempts: 2)
            let other = try await fixture.queue.submit(Nap(seconds: 3.5), maxAttempts: 2)
            #expect(try await other.get(timeout: 60) == 3.5)
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(other.id)]).rows[0][0] == .int(1))
            do {
                _ = try await refused.get(timeout: 60)
                Issue.record("a job whose lease could not be extended kept it")
            } catch let JobQueueError.leaseExpired(_, attempts) {
                #expect(attempts == 2)
            }
            try await Self.dropInjectedFaults(db)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("extending job \(refused.id)'s lease"), "\(output)")
        }
    }

    @Test func aRowLockedElsewhereHoldsBackNoOtherLeasesExtension() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            // Leases of 1.5 s: a beat every 0.5 s, and statements may take 0.5 s.
            let host = try QueueHost(fixture.url, processes: 2, lease: 1.5, logToStandardOutput: true)
            defer { host.kill() }
            let locked = try await fixture.queue.submit(Nap(seconds: 4))
            let other = try await fixture.queue.submit(Nap(seconds: 4.5))
            try await waitFor {
                let first = try await fixture.state(of: locked.id), second = try await fixture.state(of: other.id)
                return first == "running" && second == "running"
            }
            // Another session holds one job's row for two leases (an administrator's transaction,
            // a statement of the host's the server is slow to finish): the extension of every
            // other lease must not wait for it.
            try await db.transaction { db in
                try await db.query("SELECT 1 FROM sprout_jobs WHERE id = $1 FOR UPDATE", [.int(locked.id)])
                try await sleep(3)
            }
            #expect(try await other.get(timeout: 30) == 4.5)
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(other.id)]).rows[0][0] == .int(1))
            _ = try? await locked.get(timeout: 30)
            #expect(try await host.stop().0 == .exited(0))
        }
    }

    @Test func aHandBackInFlightKeepsItsLeaseExtended() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // Every hand-back statement sleeps 0.35 s in the server before it touches a row
            // (a statement-level trigger: no row locked meanwhile), and says when it slept;
            // every lease extension of a running row is logged.
            try await db.execute("""
                DROP TABLE IF EXISTS test_extensions, test_hand_back_windows;
                CREATE TABLE test_extensions (id bigint, at timestamptz);
                CREATE TABLE test_hand_back_windows (started timestamptz, ended timestamptz);
                CREATE FUNCTION test_slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE started timestamptz := clock_timestamp();
                BEGIN
                    IF current_query() LIKE '%attempts = job.attempts - 1%' THEN
                        PERFORM pg_sleep(0.35);
                        INSERT INTO test_hand_back_windows VALUES (started, clock_timestamp());
                    END IF;
                    RETURN NULL;
                END $$;
                CREATE TRIGGER test_slow_claim BEFORE UPDATE ON sprout_jobs FOR EACH STATEMENT EXECUTE FUNCTION test_slow_claim();
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO test_extensions VALUES (NEW.id, clock_timestamp()); RETURN NULL; END $$;
                CREATE TRIGGER test_refuse AFTER UPDATE ON sprout_jobs FOR EACH ROW
                    WHEN (OLD.state = 'running' AND NEW.state = 'running' AND NEW.lease_expires_at > OLD.lease_expires_at)
                    EXECUTE FUNCTION test_refuse();
                """)
            // Leases of 0.6 s: a beat every 0.2 s, and statements may take 0.5 s, so at least
            // one beat comes while a hand-back sleeps.
            let host = try QueueHost(fixture.url, processes: 1, lease: 0.6, logToStandardOutput: true)
            defer { host.kill() }
            let (_, job) = try await Self.napThenMarkedJob(fixture, napSeconds: 1.5)
            let (status, output) = try await host.stop(timeout: 30)
            #expect(status == .exited(0), "\(output)")
            let windows = try await db.query("SELECT started::text, ended::text FROM test_hand_back_windows").rows.map(\.values)
            // Its lease, held until the hand-back is through, was extended while it was in flight.
            let extended = try await db.query("""
                SELECT count(*)::int FROM test_extensions, test_hand_back_windows WHERE id = $1 AND at BETWEEN started AND ended
                """, [.int(job.id)]).rows[0][0]
            #expect(windows.count == 1 && extended != .int(0), "hand-backs \(windows), extensions in them \(extended)")
            let row = try await db.query("SELECT state, attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0]
            #expect(row.values == [.text("available"), .int(0)])
            try await Self.dropInjectedFaults(db)
            try await db.execute("DROP TABLE test_extensions, test_hand_back_windows")
            try await Self.expectRunElsewhere(job, fixture)
        }
    }

    @Test func aHandBackGivenUpKeepsTheWakeUpAFailedClaimOwes() async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await Self.dropInjectedFaults(db)
            // The hand-back statement (which also carries a failed claim's wake-up) is refused
            // three times, whatever it hands back, then goes through.
            try await db.execute("""
                DROP SEQUENCE IF EXISTS test_hand_backs; CREATE SEQUENCE test_hand_backs;
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF current_query() LIKE '%attempts = job.attempts - 1%' THEN
                        IF nextval('test_hand_backs') <= 3 THEN RAISE EXCEPTION 'injected: hand-back refused'; END IF;
                    END IF;
                    RETURN NULL;
                END $$;
                CREATE TRIGGER test_refuse BEFORE UPDATE ON sprout_jobs FOR EACH STATEMENT EXECUTE FUNCTION test_refuse();
                """)
            // The job's first claim sleeps in the server (its session is ended below); the
            // next ones are quick and do not fail, so they owe no wake-up of their own.
            try await db.execute("""
                DROP SEQUENCE IF EXISTS test_claims; CREATE SEQUENCE test_claims;
                CREATE FUNCTION test_slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF nextval('test_claims') = 1 THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
                CREATE TRIGGER test_slow_claim BEFORE UPDATE ON sprout_jobs FOR EACH ROW
                    WHEN (OLD.state = 'available' AND NEW.state = 'running' AND NEW.payload LIKE '%announce me%')
                    EXECUTE FUNCTION test_slow_claim();
                """)
            let listener = try await PostgresConnection.connect(fixture.url)
            defer { listener.close() }
            try await listener.listen("sprout_jobs_available")
            // Leases of 30 s: statements may take 10 s, the sleeping claim until it is ended.
            let host = try QueueHost(fixture.url, processes: 1, lease: 30, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(EchoText("announce me"))
            try await waitFor { try await db.query(Self.sleeping).rows[0][0] == .int(1) }
            // The submission's notification, read and dropped.
            while try await listener.nextNotification(timeout: 0.2) != nil {}
            // The claim's session ended: rolled back, its job available again, unannounced.
            // The wake-up it owes goes in the hand-back statement, refused three times and
            // given up: the wake-up is still owed, and the next statement sends it.
            try await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")
            try await waitFor { try await db.query("SELECT last_value FROM test_hand_backs").rows[0][0] == .int(3) }
            #expect(try await listener.nextNotification(timeout: 10) != nil, "the failed claim's job was never announced")
            #expect(try await job.get(timeout: 30) == "announce me")
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("gave up handing back 0 jobs"), "\(output)")
            try await Self.dropInjectedFaults(db)
            try await db.execute("DROP SEQUENCE test_claims")
        }
    }

    /// A host (leases of 12 s: statements and connecting may take 4 s) runs a nap of 12 s and
    /// holds the marked job in its pool; on SIGTERM it hands that job back, which the server
    /// refuses twice, then runs `thirdTry` (PL/pgSQL in the trigger) for, while `cutOff` keeps
    /// the host from the server, and lets through the fourth time. What failed the third try
    /// was the server's, not the hand-back's fault: it must not count as its third refusal,
    /// which would give it up (its job waiting for its lease). The job then runs elsewhere, attempts 1.
    private static func expectHandBackNotGivenUp(
        thirdTry: String, cutOff: @escaping @Hub @Sendable (QueueFixture) async throws -> Void
    ) async throws {
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await dropInjectedFaults(db)
            let url = try await hostRoleURL(fixture)
            let host = try QueueHost(url, processes: 1, lease: 12, logToStandardOutput: true)
            defer { host.kill() }
            try await db.execute("""
                DROP SEQUENCE IF EXISTS test_hand_backs; CREATE SEQUENCE test_hand_backs;
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('test_hand_backs') <= 2 THEN RAISE EXCEPTION 'injected: hand-back refused'; END IF;
                    IF currval('test_hand_backs') = 3 THEN \(thirdTry) END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER test_refuse BEFORE UPDATE ON sprout_jobs FOR EACH ROW
                    WHEN (\(handBackOfTheMarkedJob)) EXECUTE FUNCTION test_refuse();
                """)
            let (nap, job) = try await napThenMarkedJob(fixture, napSeconds: 12)
            let stopping = spawn { try await host.stop(timeout: 40) }
            try await waitFor { try await db.query(sleeping).rows[0][0] == .int(1) }
            try await cutOff(fixture)
            let (status, output) = try await stopping.get()
            #expect(status == .exited(0))
            #expect(output.contains("injected: hand-back refused") && !output.contains("gave up handing back"), "\(output)")
            let row = try await db.query("SELECT state, attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0]
            #expect(row.values == [.text("available"), .int(0)])
            #expect(try await nap.get(timeout: 5) == 12)
            try await expectRunElsewhere(job, fixture)
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(1))
        }
    }

    /// The update that hands the marked job (its payload holds "handed back") back: available
    /// again, never started.
    private static let handBackOfTheMarkedJob = """
        OLD.state = 'running' AND NEW.state = 'available' AND NEW.started_at IS NULL AND NEW.payload LIKE '%handed back%'
        """

    /// Submits a nap of `napSeconds`, which a host with one process runs, then the marked job,
    /// which waits in its pool (SIGTERM hands it back); returns them once both are running.
    @Hub
    private static func napThenMarkedJob(
        _ fixture: QueueFixture, napSeconds: Double
    ) async throws -> (nap: QueuedJob<Double>, job: QueuedJob<String>) {
        let nap = try await fixture.queue.submit(Nap(seconds: napSeconds))
        try await waitFor { try await fixture.state(of: nap.id) == "running" }
        let job = try await fixture.queue.submit(EchoText("handed back"))
        try await waitFor { try await fixture.state(of: job.id) == "running" }
        return (nap, job)
    }

    /// Removes the injected faults and checks that a new host (leases of `lease` s) runs the
    /// marked `job` and drains.
    @Hub
    private static func expectRunElsewhere(_ job: QueuedJob<String>, _ fixture: QueueFixture, lease: Double = 5) async throws {
        try await dropInjectedFaults(fixture.db)
        let other = try QueueHost(fixture.url, processes: 1, lease: lease)
        defer { other.kill() }
        #expect(try await job.get(timeout: 30) == "handed back")
        let (status, output) = try await other.stop()
        #expect(status == .exited(0), "\(output)")
    }

    /// Counts the server sessions sleeping in `pg_sleep` (a slowed claim).
    private static let sleeping = "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event = 'PgSleep'"

    /// Makes the server refuse ("injected: heartbeat refused") every extension of the lease
    /// of a running job whose payload is LIKE `pattern`.
    private static func refuseLeaseExtensions(ofPayloadLike pattern: String, _ db: PostgresConnection) async throws {
        try await refuseUpdates(saying: "injected: heartbeat refused", db, when: """
            OLD.state = 'running' AND NEW.state = 'running'
            AND NEW.lease_expires_at > OLD.lease_expires_at AND NEW.payload LIKE '\(pattern)'
            """)
    }

    /// Makes the server refuse (SQLSTATE `code`, `message`), `seconds` after it began, each
    /// update of a row for which `condition` holds.
    @Hub
    private static func refuseUpdates(
        saying message: String, code: String = "P0001", after seconds: Double = 0, _ db: PostgresConnection, when condition: String
    ) async throws {
        try await db.execute("""
            CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(\(seconds)); RAISE EXCEPTION '\(message)' USING ERRCODE = '\(code)'; END $$;
            CREATE TRIGGER test_refuse BEFORE UPDATE ON sprout_jobs FOR EACH ROW WHEN (\(condition)) EXECUTE FUNCTION test_refuse();
            """)
    }

    /// Makes each claim of a job whose payload holds `marker` take `seconds` in the server
    /// (the host's statements may take a third of its lease).
    @Hub
    private static func slowClaims(of marker: String, _ db: PostgresConnection, seconds: Double = 1) async throws {
        try await db.execute("""
            CREATE FUNCTION test_slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(\(seconds)); RETURN NEW; END $$;
            CREATE TRIGGER test_slow_claim BEFORE UPDATE ON sprout_jobs FOR EACH ROW
                WHEN (OLD.state = 'available' AND NEW.state = 'running' AND NEW.payload LIKE '%\(marker)%')
                EXECUTE FUNCTION test_slow_claim();
            """)
    }

    /// The fixture's server URL as the role `test_host`, made afresh: a host that logs in as
    /// it can be cut off (`ALTER ROLE test_host NOLOGIN` and its sessions terminated) while the
    /// fixture's own connections stay.
    @Hub
    private static func hostRoleURL(_ fixture: QueueFixture) async throws -> String {
        try await fixture.db.execute("DROP ROLE IF EXISTS test_host; CREATE ROLE test_host LOGIN SUPERUSER")
        return fixture.url.replacingOccurrences(of: "postgres@", with: "test_host@")
    }

    /// Removes the triggers and functions a test made to inject faults.
    @Hub
    private static func dropInjectedFaults(_ db: PostgresConnection) async throws {
        try await db.execute("""
            DROP TRIGGER IF EXISTS test_refuse ON sprout_jobs; DROP FUNCTION IF EXISTS test_refuse();
            DROP TRIGGER IF EXISTS test_slow_claim ON sprout_jobs; DROP FUNCTION IF EXISTS test_slow_claim();
            DROP SEQUENCE IF EXISTS test_hand_backs;
            """)
    }
}
