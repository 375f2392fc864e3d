import Logging
import Sprout
import SproutPostgres
import SproutPostgresTestSupport
import SproutTestJobs
import SproutTestSupport
import Testing

import Glibc

@Suite(.heavy(timeLimit: .seconds(180)), .postgresServer, .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage))
struct JobQueueTests {
    @Test func jobsRunOnAWorkerHostAndEveryOutcomeComesBack() async throws {
        try await QueueFixture.run(seconds: 90) { fixture in
            let queue = fixture.queue, host = fixture.host
            let seven = try await queue.submit(Square(7))
            #expect(try await seven.get(timeout: 30) == 49)
            #expect(try await queue.map((0..<200).map(Square.init)) == (0..<200).map { $0 * $0 })
            var sum = 0
            for try await square in try await queue.imapUnordered((1...50).map(Square.init)) { sum += square }
            #expect(sum == (1...50).reduce(0) { $0 + $1 * $1 })

            let results = try await queue.mapResults([Square(2), Square(3)])
            #expect(results.map { try? $0.get() } == [4, 9])
            await #expect {
                _ = try await queue.submit(Fail(code: 5)).get(timeout: 30)
            } throws: { error in
                guard case .failed(_, let type, _) = error as? JobQueueError else { return false }
                return type.contains("TestJobError")
            }
            await #expect {
                _ = try await queue.submit(Die(signal: SIGKILL)).get(timeout: 30)
            } throws: { error in
                guard case .workerCrashed(_, let description) = error as? JobQueueError else { return false }
                return description.contains("SIGKILL") || description.contains("signal 9")
            }
            await #expect {
                _ = try await queue.submit(Nap(seconds: 10), timeout: 0.5).get(timeout: 30)
            } throws: { error in
                guard case .timedOut = error as? JobQueueError else { return false }
                return true
            }
            // A new client (another process, after a crash) waits on a job by its id.
            let other = try await JobQueue.connect(fixture.url)
            defer { other.close() }
            #expect(try await other.job(id: seven.id, as: Int.self).get(timeout: 10) == 49)
            await #expect(throws: JobQueueError.notFound(id: 999_999_999)) {
                _ = try await other.job(id: 999_999_999, as: Int.self)
            }
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("refused 0"))
        }
    }

    @Test func jobsAndOutputsCrossTheHostAsTheTableHoldsThemAndAPayloadNoWorkerDecodesIsUndecodable() async throws {
        try await QueueFixture.run(seconds: 90) { fixture in
            let queue = fixture.queue
            // A row as another build wrote it: its payload lacks the field this build's Square needs.
            let rows = try await fixture.db.query("""
                WITH job AS (INSERT INTO sprout_jobs (job_type, payload) VALUES ($1, '{"side":3}') RETURNING id)
                SELECT id, pg_notify('sprout_jobs_available', '') FROM job
                """, [.text(Square.jobName)]).rows
            let id = try #require(rows.first?[0].int)
            await #expect {
                _ = try await queue.job(id: id, as: Int.self).get(timeout: 30)
            } throws: { error in
                guard case .undecodable(let job, let message) = error as? JobQueueError else { return false }
                return job == Square.jobName && message.contains("n")
            }
            // A run() that throws a DecodingError itself is a failure, not an undecodable job.
            await #expect {
                _ = try await queue.submit(ThrowsDecodingError()).get(timeout: 30)
            } throws: { error in
                guard case .failed(_, let type, _) = error as? JobQueueError else { return false }
                return type == String(reflecting: DecodingError.self)
            }
            // Outputs the host passes on as its pool's workers wrote them, and bytes, which the
            // pool passes raw and the table holds as Foundation's JSON writes them.
            let texts = (0..<6).map(TextOrFail.text) + ["line\nbreak", String(repeating: "long ", count: 100)]
            #expect(try await queue.map(texts.map { EchoText($0) }) == texts)
            let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
            #expect(try await queue.submit(Bytes(count: 300)).get(timeout: 30) == bytes)
            #expect(try await queue.submit(Bytes(count: 0)).get(timeout: 30) == [])
        }
    }

    @Test func aJobThatCrashesItsProcessRunsAgainUpToItsRetriesWithinItsClaim() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            let host = try QueueHost(fixture.url, processes: 1)
            defer { host.kill() }
            let base = "/tmp/sprout-die-times-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let paths = ["once", "twice", "none"].map { "\(base)-\($0)" }
            defer { for path in paths { unlink(path) } }
            func runs(_ path: String) -> Int {
                var info = stat()
                return stat(path, &info) == 0 ? Int(info.st_size) : 0
            }
            func crashed(_ error: any Error) -> Bool {
                if case .workerCrashed = error as? JobQueueError { return true }
                return false
            }
            // Dies on its first run: its one retry runs it again, and it succeeds.
            let once = try await fixture.queue.submit(DieTimes(path: paths[0], times: 1), retries: 1)
            #expect(try await once.get(timeout: 30) == 2)
            // Dies on its first two runs: one retry is not enough, its second crash is its outcome.
            let twice = try await fixture.queue.submit(DieTimes(path: paths[1], times: 2), retries: 1)
            await #expect { _ = try await twice.get(timeout: 30) } throws: { crashed($0) }
            #expect(runs(paths[1]) == 2)
            // No retry: its first crash is its outcome.
            let none = try await fixture.queue.submit(DieTimes(path: paths[2], times: 1))
            await #expect { _ = try await none.get(timeout: 30) } throws: { crashed($0) }
            #expect(runs(paths[2]) == 1)
            // Re-runs within the claim, on its host: no attempt counted for them.
            let attempts = try await fixture.db.query(
                "SELECT attempts FROM sprout_jobs WHERE id = ANY($1::bigint[]) ORDER BY id",
                [PostgresValue.text("{\(once.id),\(twice.id),\(none.id)}")]).rows.map { $0[0] }
            #expect(attempts == [.int(1), .int(1), .int(1)])
            #expect(try await host.stop().0 == .exited(0))
        }
    }

    @Test func answersWhoseInlineOutputsOutgrowOneNotificationAreAnnouncedInSeveral() async throws {
        try await QueueFixture.run(seconds: 90, host: nil) { fixture in
            let host = try QueueHost(fixture.url, logToStandardOutput: true)
            defer { host.kill() }
            // Outputs of 190 bytes travel inside the done notification: a batch of more than
            // 36 answers (a host records tiny jobs by the hundred) fills more than one payload.
            let texts = (0..<2000).map { String(repeating: "x", count: 190 - String($0).count) + String($0) }
            #expect(try await fixture.queue.map(texts.map { EchoText($0) }) == texts)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            // An answer statement whose payload outgrew PostgreSQL's limit is refused, and its
            // answers are sent again in halves: the outputs all come back, but not at once.
            #expect(!output.contains("statement failed"), "\(output)")
        }
    }

    @Test func aHostClaimsOnlyTheJobTypesItServes() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            // A host of another build: it serves Square and not EchoText.
            let squares = try QueueHost(fixture.url, processes: 1, types: [Square.self])
            defer { squares.kill() }
            let text = try await fixture.queue.submit(EchoText("not for that host"))
            let square = try await fixture.queue.submit(Square(6))
            #expect(try await square.get(timeout: 30) == 36)
            // Submitted first, the other type's job is still waiting, never claimed.
            try await sleep(0.5)
            let row = try await fixture.db.query("SELECT state, attempts FROM sprout_jobs WHERE id = $1", [.int(text.id)]).rows[0]
            #expect(row.values == [.text("available"), .int(0)])
            // A host that serves it runs it.
            let every = try QueueHost(fixture.url, processes: 1)
            defer { every.kill() }
            #expect(try await text.get(timeout: 30) == "not for that host")
            #expect(try await squares.stop().0 == .exited(0))
            #expect(try await every.stop().0 == .exited(0))
        }
    }

    @Test func finishedRowsArePrunedOnceTheyAreOlderThanTheHostKeepsThem() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            let keeping = try QueueHost(fixture.url, processes: 1)
            defer { keeping.kill() }
            let old = try await fixture.queue.submitAll((1...3).map(Square.init))
            for handle in old { _ = try await handle.get(timeout: 30) }
            #expect(try await keeping.stop().0 == .exited(0))
            // Finished over a second ago, when a host that keeps finished rows 1 s starts: its
            // first heartbeat (a third of its 3 s lease in) prunes them; a row not finished stays.
            try await sleep(1.2)
            let waiting = try await fixture.queue.submit(Nap(seconds: 0.01), priority: -1)
            try await fixture.db.query("UPDATE sprout_jobs SET job_type = 'not served' WHERE id = $1", [.int(waiting.id)])
            let pruning = try QueueHost(fixture.url, processes: 1, lease: 3, keepFinished: 1)
            defer { pruning.kill() }
            let ids = PostgresValue.text("{" + old.map { String($0.id) }.joined(separator: ",") + "}")
            try await waitFor(timeout: 20) {
                try await fixture.db.query("SELECT count(*)::int FROM sprout_jobs WHERE id = ANY($1::bigint[])", [ids]).rows[0][0] == .int(0)
            }
            #expect(try await fixture.state(of: waiting.id) == "available")
            #expect(try await pruning.stop().0 == .exited(0))
            try await fixture.db.query("DELETE FROM sprout_jobs WHERE id = $1", [.int(waiting.id)])
        }
    }

    @Test func aHostRunsHigherPriorityJobsFirst() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            // Queued before any host runs, lowest priority first, ten levels: a claim holding
            // two levels and handing its jobs to the pool in id order runs a lower one first.
            var handles: [(priority: Int, job: QueuedJob<Int>)] = []
            for priority in 0..<10 {
                for handle in try await fixture.queue.submitAll((0..<10).map(RunTime.init), priority: priority) {
                    handles.append((priority, handle))
                }
            }
            let host = try QueueHost(fixture.url, processes: 1, lease: 5)
            defer { host.kill() }
            var ran: [(time: Int, priority: Int)] = []
            for (priority, handle) in handles { ran.append((try await handle.get(timeout: 30), priority)) }
            let order = ran.sorted { $0.time < $1.time }.map(\.priority)
            #expect(order == order.sorted(by: >), "priorities in the order the jobs ran")
            // Ties in submission order.
            for priority in 0..<10 {
                let times = ran.filter { $0.priority == priority }.map(\.time)
                #expect(times == times.sorted(), "priority \(priority)'s jobs in the order they ran")
            }
            _ = try await host.stop()
        }
    }

    @Test func cancellingAJobRunningOnAnotherHostKillsItsProcess() async throws {
        try await QueueFixture.run(seconds: 60, host: .init(processes: 1)) { fixture in
            let queue = fixture.queue, host = fixture.host
            #expect(try await queue.submit(Square(3)).get(timeout: 30) == 9)
            let before = host.poolPIDs
            let long = try await queue.submit(Nap(seconds: 30))
            try await waitFor { try await queue.counts()["running"] == 1 }
            let started = monotonicSeconds()
            long.cancel()
            await #expect(throws: JobQueueError.cancelled(job: "\(long.id)")) { _ = try await long.get(timeout: 20) }
            #expect(monotonicSeconds() - started < 10)
            // The pool replaced the killed process and serves the next job.
            #expect(try await queue.submit(Square(4)).get(timeout: 30) == 16)
            #expect(host.poolPIDs != before)
            _ = try await host.stop()
        }
    }

    @Test func aCancellationSentWhileTheHostWasNotListeningStillKillsTheJob() async throws {
        try await QueueFixture.run(seconds: 90, host: .init(processes: 1)) { fixture in
            let queue = fixture.queue, db = fixture.db
            #expect(try await queue.submit(Square(3)).get(timeout: 30) == 9)
            let long = try await queue.submit(Nap(seconds: 30))
            try await waitFor { try await queue.counts()["running"] == 1 }
            // The host's listener is the session whose last statement listened for
            // cancellations. Cut it and cancel before the host listens again (it waits 0.05 s
            // before reconnecting): the cancellation's NOTIFY reaches nobody, as one sent
            // before a fresh host's first LISTEN does.
            let listener = "SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN \"sprout_jobs_cancel\"'"
            var found: Int?
            try await waitFor {
                found = try await db.query(listener).rows.first?[0].int
                return found != nil
            }
            let pid = try #require(found)
            try await db.query("SELECT pg_terminate_backend($1::int)", [.int(pid)])
            try await waitFor { try await db.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", [.int(pid)]).rows.isEmpty }
            try await queue.cancel(jobID: long.id)
            await #expect(throws: JobQueueError.cancelled(job: "\(long.id)")) { _ = try await long.get(timeout: 20) }
            // The host found the cancellation in the table once it listened again and killed
            // the process running the nap: its only process serves the next job at once.
            #expect(try await queue.submit(Square(4)).get(timeout: 20) == 16)
            _ = try await fixture.host.stop()
        }
    }

    @Test func aServerCrashKeepsEveryDurableAnswerAndSubmission() async throws {
        let server = try #require(PostgresTestServer.current)
        try await onHub(seconds: 120) {
            // The crashes below find unwritten whatever waited in the WAL buffers (10 s between
            // the WAL writer's rounds): only what a commit flushed itself survives them. The
            // defaults wait for the disk; the test fails with `durableAnswers: false` for the
            // host (outcomes undone), or `durableSubmissions: false` (submissions lost).
            try await setWALWriterDelay("10s", on: server)
            let queue = try await JobQueue.connect(server.url)
            defer { queue.close() }
            @Hub func recorded(_ ids: [Int]) async throws -> [Int: String] {
                let db = try await PostgresConnection.connect(server.url)
                defer { db.close() }
                var recorded: [Int: String] = [:]
                let list = PostgresValue.text("{" + ids.map(String.init).joined(separator: ",") + "}")
                for row in try await db.query("SELECT id, state, result FROM sprout_jobs WHERE id = ANY($1::bigint[])", [list]).rows {
                    recorded[row[0].int!] = row[1].string == "succeeded" ? row[2].string : row[1].string
                }
                return recorded
            }
            // Outcomes the client was told, the crash right after the last.
            var told: [Int: Int] = [:]
            do {
                let host = try QueueHost(server.url, processes: 2, lease: 2)
                defer { host.kill() }
                for (n, handle) in zip(4000..., try await queue.submitAll((0..<150).map { Square(4000 + $0) })) {
                    told[handle.id] = try await handle.get(timeout: 30)
                    #expect(told[handle.id] == n * n)
                }
                try await server.crashAndRestart()
            }
            let afterFirst = try await recorded(Array(told.keys))
            #expect(told.filter { afterFirst[$0.key] != "\($0.value)" }.isEmpty, "outcomes the crash undid")
            // Submissions acknowledged and waiting for a host (none runs), the crash right after the last.
            let pending = try await queue.submitAll((0..<20).map { Square(5000 + $0) }).map(\.id)
            try await server.crashAndRestart()
            let afterSecond = try await recorded(pending)
            #expect(pending.filter { afterSecond[$0] != "available" }.isEmpty, "submissions the crash lost")
            try await setWALWriterDelay(nil, on: server)
            for id in pending { try await queue.cancel(jobID: id) }
        }
    }

    @Test func aServerCrashUndoesAsynchronousAnswersAndTheirJobsRunAgainToOneRecordedOutcome() async throws {
        let server = try #require(PostgresTestServer.current)
        try await onHub(seconds: 120) {
            // Asynchronous answers wait in the server's WAL buffers until its WAL writer writes
            // them: with 10 s between its rounds, the crash below finds the last ones unwritten.
            try await setWALWriterDelay("10s", on: server)
            let queue = try await JobQueue.connect(server.url)
            defer { queue.close() }
            let host = try QueueHost(server.url, processes: 2, lease: 2, durableAnswers: false)
            defer { host.kill() }
            let count = 200
            let handles = try await queue.submitAll((0..<count).map { Square(1000 + $0) })
            var told: [Int: Int] = [:]
            for (n, handle) in zip(1000..., handles) {
                told[handle.id] = try await handle.get(timeout: 30)
                #expect(told[handle.id] == n * n)
            }
            try await server.crashAndRestart()
            let db = try await PostgresConnection.connect(server.url)
            defer { db.close() }
            let ids = PostgresValue.text("{" + told.keys.map(String.init).joined(separator: ",") + "}")
            func outcomes() async throws -> [Int: String] {
                var outcomes: [Int: String] = [:]
                for row in try await db.query("SELECT id, result FROM sprout_jobs WHERE id = ANY($1::bigint[]) AND state = 'succeeded'", [ids]).rows {
                    outcomes[row[0].int!] = row[1].string
                }
                return outcomes
            }
            // The crash undid outcomes the client had already been told: what `durableAnswers =
            // false` allows (a durable answer survives it: the test fails with durable answers).
            let undone = try await count - outcomes().count
            print("the crash undid \(undone) of \(count) answers")
            #expect(undone > 0)
            // The host reconnects; the undone jobs run again once their leases expire (or at
            // once, if their claims were undone too), and each ends with one recorded outcome:
            // the value the client was told. None is lost.
            try await waitFor(timeout: 60) { try await outcomes().count == count }
            let recorded = try await outcomes()
            #expect(told.allSatisfy { id, value in recorded[id] == "\(value)" })
            let states = try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE id = ANY($1::bigint[])", [ids]).rows[0][0]
            #expect(states == .int(count))
            try await setWALWriterDelay(nil, on: server)
            _ = try await host.stop()
        }
    }

    @Test func aServerCrashMayLoseAsynchronousSubmissionsButNeverRecordsTwoOutcomes() async throws {
        let server = try #require(PostgresTestServer.current)
        try await onHub(seconds: 120) {
            // Nothing below waits for the disk, the host's heartbeats included: the crash finds the
            // WAL of the last moments unwritten (the WAL writer writes full pages at once, the
            // rest after 10 s here).
            try await setWALWriterDelay("10s", on: server)
            let count = 150
            var submitted: [(id: Int, n: Int, value: Int?)] = []
            var pending: [QueuedJob<Int>] = []
            let queue = try await JobQueue.connect(server.url, durableSubmissions: false)
            defer { queue.close() }
            do {
                let first = try QueueHost(server.url, processes: 2, lease: 4, durableAnswers: false)
                defer { first.kill() }
                for n in 2000..<(2000 + count - 20) {
                    let handle = try await queue.submit(Square(n))
                    submitted.append((handle.id, n, try await handle.get(timeout: 30)))
                }
                // The last 20 wait for a host: once acknowledged, nothing more is written
                // after them.
                _ = try await first.stop()
                for n in (2000 + count - 20)..<(2000 + count) {
                    pending.append(try await queue.submit(Square(n)))
                    submitted.append((pending.last!.id, n, nil))
                }
            }
            try await server.crashAndRestart()
            let db = try await PostgresConnection.connect(server.url)
            defer { db.close() }
            func rows(_ ids: [Int]) async throws -> [Int: (payload: String, state: String, result: String?)] {
                var rows: [Int: (payload: String, state: String, result: String?)] = [:]
                let list = PostgresValue.text("{" + ids.map(String.init).joined(separator: ",") + "}")
                for row in try await db.query("SELECT id, payload, state, result FROM sprout_jobs WHERE id = ANY($1::bigint[])", [list]).rows {
                    rows[row[0].int!] = (row[1].string!, row[2].string!, row[3].string)
                }
                return rows
            }
            // Jobs whose handles (and outcomes) the client had are gone, with everything about
            // them: what `durableSubmissions: false` allows (the test fails with durable
            // submissions, each of which flushes the WAL before it). WAL is written in order,
            // so the lost ones are the last submitted.
            let kept = try await rows(submitted.map(\.id))
            let lost = submitted.filter { kept[$0.id] == nil }.map(\.id)
            print("the crash lost \(lost.count) of \(count) acknowledged submissions, "
                  + "\(submitted.filter { $0.value != nil && kept[$0.id] == nil }.count) of them with an outcome the client was told")
            #expect(!lost.isEmpty)
            #expect(lost == submitted.suffix(lost.count).map(\.id))
            // Every job kept ends with one recorded outcome, its own value; those whose answer
            // the crash undid run again once their leases expire, and the pending ones run.
            let host = try QueueHost(server.url, processes: 2, lease: 4, durableAnswers: false)
            defer { host.kill() }
            try await waitFor(timeout: 60) { try await rows(submitted.map(\.id)).values.allSatisfy { $0.state == "succeeded" } }
            let recorded = try await rows(submitted.map(\.id))
            #expect(recorded.count == count - lost.count)
            for job in submitted where !lost.contains(job.id) {
                #expect(recorded[job.id]?.payload == #"{"n":\#(job.n)}"# && recorded[job.id]?.result == "\(job.n * job.n)")
                #expect(job.value == nil || job.value == job.n * job.n)
            }
            // New jobs, submitted by the same client (it reconnects), may be given a lost job's
            // id (the sequence's advance was lost too); each is still recorded once, with its
            // own outcome, and the lost jobs' handles fail as not found instead of taking
            // another job's outcome (or waiting for ever).
            let handles = try await queue.submitAll((3000..<(3000 + count)).map(Square.init))
            for (n, handle) in zip(3000..., handles) {
                #expect(try await handle.get(timeout: 30) == n * n)
            }
            for handle in pending {
                if lost.contains(handle.id) {
                    await #expect(throws: JobQueueError.notFound(id: handle.id)) { try await handle.get(timeout: 30) }
                } else {
                    #expect(try await handle.get(timeout: 30) == submitted.first { $0.id == handle.id }.map { $0.n * $0.n })
                }
            }
            let reused = Set(handles.map(\.id)).intersection(lost)
            print("\(reused.count) ids of lost jobs were given to new ones")
            for (n, handle) in zip(3000..., handles) {
                let row = try await rows([handle.id])[handle.id]
                #expect(row?.payload == #"{"n":\#(n)}"# && row?.result == "\(n * n)")
            }
            try await setWALWriterDelay(nil, on: server)
            _ = try await host.stop()
        }
    }

    @Test func aClientAndAHostCarryOnAcrossServerRestarts() async throws {
        try await QueueFixture.run(seconds: 120) { fixture in
            let queue = fixture.queue, host = fixture.host, server = fixture.server
            // The fixture's own connection ends with the server: each look is a new one.
            @Hub func state(_ job: Int) async throws -> String? {
                let db = try await PostgresConnection.connect(server.url)
                defer { db.close() }
                return try await db.query("SELECT state FROM sprout_jobs WHERE id = $1", [.int(job)]).rows.first?[0].string
            }
            #expect(try await queue.submit(Square(3)).get(timeout: 30) == 9)
            // Jobs running through a restart: recorded after it, their handles get the outcomes.
            let naps = try await queue.submitAll([Nap(seconds: 1.5), Nap(seconds: 1.5)])
            try await waitFor {
                let first = try await state(naps[0].id), second = try await state(naps[1].id)
                return first == "running" && second == "running"
            }
            try await server.shutDown()
            try await server.startAgain()
            // The first statement after the restart, on a session the server ended: the client
            // sees that before sending and connects anew.
            let four = try await queue.submit(Square(4))
            for nap in naps { #expect(try await nap.get(timeout: 30) == 1.5) }
            #expect(try await four.get(timeout: 30) == 16)

            // While the server is down a call fails at once with a typed error, and a job
            // finishing then is recorded once it is back.
            let late = try await queue.submit(Nap(seconds: 0.5))
            try await waitFor { try await state(late.id) == "running" }
            try await server.shutDown()
            let started = monotonicSeconds()
            await #expect(throws: PostgresError.self) { _ = try await queue.submit(Square(5)) }
            await #expect(throws: PostgresError.self) { _ = try await queue.counts() }
            #expect(monotonicSeconds() - started < slack(5))
            try await sleep(1)
            try await server.startAgain()
            #expect(try await late.get(timeout: 30) == 0.5)
            #expect(try await queue.submit(Square(6)).get(timeout: 30) == 36)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            // No copy of an answer per failed connect ("refused 3" when each left one). One
            // refusal is legitimate: an answer in flight as the server went down may have
            // committed before its reply was lost, and its copy sent again is refused. Only
            // the second shutdown can catch one (the naps run through the first).
            #expect((QueueHost.refusedAnswers(in: output) ?? .max) <= 1, "\(output)")
        }
    }

    @Test func aHungServerMakesEachCallThrowWithinTheStatementTimeoutAndTheClientRecovers() async throws {
        try await QueueFixture.run(seconds: 60) { fixture in
            let server = fixture.server
            let queue = try await JobQueue.connect(server.url, statementTimeout: .seconds(1))
            defer { queue.close() }
            #expect(try await queue.submit(Square(2)).get(timeout: 30) == 4)
            // Stopped, not down: connections are accepted by the kernel and never answered.
            try server.signalAll(SIGSTOP)
            defer { try? server.signalAll(SIGCONT) }
            var started = monotonicSeconds()
            await #expect(throws: PostgresError.timedOut(seconds: 1)) { _ = try await queue.counts() }
            #expect(monotonicSeconds() - started < slack(2.5))
            // The timed-out connection was dropped: the next call connects anew, bounded too.
            started = monotonicSeconds()
            await #expect(throws: PostgresError.timedOut(seconds: 1)) { _ = try await queue.submit(Square(3)) }
            #expect(monotonicSeconds() - started < slack(2.5))
            try server.signalAll(SIGCONT)
            #expect(try await queue.submit(Square(5)).get(timeout: 30) == 25)
            #expect(try await queue.counts()["succeeded", default: 0] >= 2)
        }
    }

    @Test func aVersionOneDatabaseIsMigratedAndTheJobsItHoldsStillRun() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            try await withScratchDatabase("sprout_v1", on: url) { oldURL in
                // The tables as the version-1 library made them, with a job it queued.
                let db = try await PostgresConnection.connect(oldURL)
                defer { db.close() }
                try await makeVersionOneTables(db)
                let old = try await db.query("""
                    INSERT INTO sprout_jobs (job_type, payload) VALUES ($1, '{"n":7}') RETURNING id
                    """, [.text(Square.jobName)]).rows[0][0].int!
                let queue = try await JobQueue.connect(oldURL)
                defer { queue.close() }
                #expect(try await db.query("SELECT version FROM sprout_schema").rows.map { $0[0] } == [.int(2)])
                let options = try await db.query("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'sprout_jobs'")
                #expect(options.rows[0][0] == .text("fillfactor=50"))
                let method = try await db.query("""
                    SELECT am.amname::text FROM pg_class AS index JOIN pg_am AS am ON am.oid = index.relam WHERE index.relname = 'sprout_jobs_finished'
                    """)
                #expect(method.rows.map { $0[0] } == [.text("brin")])
                let host = try QueueHost(oldURL, processes: 1)
                defer { host.kill() }
                #expect(try await queue.job(id: old, as: Int.self).get(timeout: 30) == 49)
                #expect(try await queue.submit(Square(8)).get(timeout: 30) == 64)
                _ = try await host.stop()
            }
        }
    }

    @Test func clientsMigratingAFreshDatabaseAtOnceAllGetOneSchema() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            try await withScratchDatabase("sprout_fresh", on: url) { freshURL in
                // Eight clients create the tables at once: the advisory lock lets one migrate,
                // the others then find the tables (without it: duplicate-type errors).
                let connecting = (0..<8).map { _ in spawn { try await JobQueue.connect(freshURL) } }
                var queues: [JobQueue] = []
                for attempt in connecting { queues.append(try await attempt.get()) }
                defer { for queue in queues { queue.close() } }
                let check = try await PostgresConnection.connect(freshURL)
                defer { check.close() }
                #expect(try await check.query("SELECT version FROM sprout_schema").rows.map { $0[0] } == [.int(2)])
                #expect(try await queues[3].submit(Square(1)).id > 0)
            }
        }
    }

    @Test func aDatabaseMigratedByANewerLibraryIsRefused() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            try await withScratchDatabase("sprout_newer", on: url) { newerURL in
                let db = try await PostgresConnection.connect(newerURL)
                defer { db.close() }
                try await db.execute("CREATE TABLE sprout_schema (version int NOT NULL); INSERT INTO sprout_schema VALUES (3)")
                await #expect(throws: JobQueueError.schemaTooNew(found: 3, supported: 2)) { _ = try await JobQueue.connect(newerURL) }
                // A host too: it does not serve a schema it does not know.
                let host = try QueueHost(newerURL, processes: 1)
                defer { host.kill() }
                let output = String(decoding: try await host.child.standardOutput!.readToEnd(maxLength: 1 << 16), as: UTF8.self)
                #expect(try await host.child.wait(timeout: 30) == .exited(1))
                #expect(output.contains("serve threw: queue schema version 3 is newer than this library's 2"), "\(output)")
                #expect(try await db.query("SELECT version FROM sprout_schema").rows.map { $0[0] } == [.int(3)])
            }
        }
    }

    @Test func aMigrationWaitingForTheTablesLockHoldsUpOtherStatementsOnlyBriefly() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 90) {
            try await withScratchDatabase("sprout_v1_busy", on: url) { oldURL in
                let db = try await PostgresConnection.connect(oldURL)
                defer { db.close() }
                try await makeVersionOneTables(db)
                // A long read holds the table while a client connects and migrates it: the
                // migration's DROP INDEX waits for it, and every statement on the table queues
                // behind that wait (the hosts' claims, answers, heartbeats).
                let reader = try await PostgresConnection.connect(oldURL)
                defer { reader.close() }
                try await reader.execute("BEGIN; SELECT count(*) FROM sprout_jobs")
                let connecting = spawn { try await JobQueue.connect(oldURL) }
                try await sleep(0.3)
                let started = monotonicSeconds()
                do {
                    _ = try await db.query("SELECT count(*) FROM sprout_jobs", timeout: 4)
                } catch PostgresError.timedOut {
                    Issue.record("a read queued behind the migration's lock request for 4 s")
                }
                let waited = monotonicSeconds() - started
                print("a read waited \(waited) s behind a migration waiting for the table")
                #expect(waited < slack(2))
                try await reader.execute("COMMIT")
                let queue = try await connecting.get()
                defer { queue.close() }
                let check = try await PostgresConnection.connect(oldURL)
                defer { check.close() }
                #expect(try await check.query("SELECT version FROM sprout_schema").rows.map { $0[0] } == [.int(2)])
            }
        }
    }

    @Test func aSubmissionWhoseLaterStatementFailsThrowsThatErrorAlone() async throws {
        let url = try postgresURL()
        let capture = LogCapture()
        try await reportingHubTo(capture, seconds: 60) {
            // A database of its own: the test makes the inserts of one kind of job fail.
            try await withScratchDatabase("sprout_refusing", on: url) { url in
                let queue = try await JobQueue.connect(url)
                defer { queue.close() }
                let db = try await PostgresConnection.connect(url)
                defer { db.close() }
                try await db.execute("""
                    CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.payload = '2' THEN RAISE EXCEPTION 'injected: insert refused'; END IF; RETURN NEW; END $$;
                    CREATE TRIGGER test_refuse BEFORE INSERT ON sprout_jobs FOR EACH ROW EXECUTE FUNCTION test_refuse();
                    """)
                // The first statement (100 jobs, one of which cannot be encoded) goes through,
                // the next (1,000) fails: the caller gets the statement's error, and the handle
                // born failed in the first batch, which nobody will see, is not reported either.
                let jobs = (0..<1100).map { RefusesEncoding(mode: $0 == 5 ? 1 : $0 >= 100 ? 2 : 0) }
                do {
                    _ = try await queue.submitAll(jobs)
                    Issue.record("a submission whose second statement fails went through")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "P0001", "\(error)")
                }
            }
        }
        let reports = capture.records(containing: "nobody read its error")
        #expect(reports.isEmpty, "\(reports)")
    }

    @Test func anEmptySubmissionSendsNoStatement() async throws {
        try await QueueFixture.run(seconds: 60, host: nil) { fixture in
            let db = fixture.db
            // The client logs in as a role of its own, which the test can bar from logging in.
            try await db.execute("DROP ROLE IF EXISTS test_client; CREATE ROLE test_client LOGIN SUPERUSER")
            let queue = try await JobQueue.connect(fixture.url.replacingOccurrences(of: "postgres@", with: "test_client@"))
            defer { queue.close() }
            // Its sessions ended and new ones refused: a statement sent now would throw.
            try await db.execute("""
                ALTER ROLE test_client NOLOGIN;
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'test_client';
                """)
            var thrown: (any Error)?
            do {
                #expect(try await queue.submitAll([Square]()).isEmpty)
            } catch {
                thrown = error
            }
            try await db.execute("ALTER ROLE test_client LOGIN")
            #expect(thrown == nil, "an empty submission sent a statement: \(String(describing: thrown))")
        }
    }

    @Test func aOneJobSubmissionWritesTheRowABatchWrites() async throws {
        try await QueueFixture.run(seconds: 60, host: nil) { fixture in
            let listener = try await PostgresConnection.connect(fixture.url)
            defer { listener.close() }
            try await listener.listen("sprout_jobs_available")
            // One job goes by a statement of its own (INSERT ... VALUES), two by the batch's.
            let one = try await fixture.queue.submit(Square(3), priority: 7, timeout: 2.5, retries: 2, maxAttempts: 4)
            #expect(try await listener.nextNotification(timeout: 5) != nil, "no wake-up for the hosts")
            let two = try await fixture.queue.submitAll([Square(3), Square(3)], priority: 7, timeout: 2.5, retries: 2, maxAttempts: 4)
            let columns = "job_type, payload, priority, timeout_seconds, retries, max_attempts, state, attempts"
            let rows = try await fixture.db.query("SELECT id, \(columns) FROM sprout_jobs WHERE id = ANY($1::bigint[]) ORDER BY id",
                                                  [.text("{\(one.id),\(two[0].id),\(two[1].id)}")]).rows
            #expect(rows.count == 3)
            let written = Dictionary(uniqueKeysWithValues: rows.map { ($0[0].int!, Array($0.values.dropFirst())) })
            #expect(written[one.id] == written[two[0].id], "\(columns)")
            #expect(written[one.id]?[2] == .int(7) && written[one.id]?[3] == .double(2.5), "\(String(describing: written[one.id]))")
            for job in [one] + two { try await fixture.queue.cancel(jobID: job.id) }
        }
    }

    @Test func aBigSubmissionLeavesStatisticsThatLetClaimsWalkTheIndex() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            // A database of its own: a fresh table, never analyzed, as in a new deployment.
            try await withScratchDatabase("sprout_fresh", on: url) { freshURL in
                let queue = try await JobQueue.connect(freshURL)
                defer { queue.close() }
                _ = try await queue.submitAll((0..<3000).map(Square.init))
                let db = try await PostgresConnection.connect(freshURL)
                defer { db.close() }
                // A host's claim: with statistics the planner walks the claim index in order
                // and stops after the batch; without, it reads and sorts every available row.
                let plan = try await db.query("""
                    EXPLAIN SELECT id FROM sprout_jobs WHERE state = 'available' AND job_type = ANY($1::text[])
                    ORDER BY priority DESC, id LIMIT 100 FOR UPDATE SKIP LOCKED
                    """, [.text("{\(Square.jobName)}")]).rows.compactMap { $0[0].string }.joined(separator: "\n")
                #expect(plan.contains("Index Scan using sprout_jobs_claim"), "\(plan)")
                #expect(!plan.contains("Sort"), "\(plan)")
            }
        }
    }

    @Test func claimsNeverOverlapAcrossHosts() async throws {
        try await QueueFixture.run(seconds: 120, host: nil) { fixture in
            let queue = fixture.queue, db = fixture.db
            let hosts = try (0..<3).map { _ in try QueueHost(fixture.url, processes: 2) }
            defer { for host in hosts { host.kill() } }
            let count = 3000 * testScale
            // Earlier tests' jobs (some re-run on purpose) are not this one's.
            let before = try await fixture.lastID()
            #expect(try await queue.map((0..<count).map(Square.init)) == (0..<count).map { $0 * $0 })
            // A job claimed twice would have been claimed again with attempts = 2.
            let rows = try await db.query("SELECT count(*)::int, count(DISTINCT worker)::int, max(attempts) FROM sprout_jobs WHERE job_type LIKE '%Square' AND id > $1", [before]).rows[0]
            #expect(rows[2] == .int(1))
            #expect(try #require(rows[1].int) >= 2)
            for host in hosts { _ = try await host.stop() }
        }
    }

    @Test func aHostHoldsLongJobsAtMostTwoPerProcess() async throws {
        try await QueueFixture.run(seconds: 120, host: nil) { fixture in
            let queue = fixture.queue, db = fixture.db
            let processes = 2
            let hosts = try (0..<2).map { _ in try QueueHost(fixture.url, processes: processes) }
            defer { for host in hosts { host.kill() } }
            // Tiny jobs first: a host that carries their pace over to long ones holds those by
            // the dozen (one host held all twelve naps below, while the other idled).
            #expect(try await queue.map((0..<200).map(Square.init)) == (0..<200).map { $0 * $0 })
            let listeners = "SELECT count(*)::int FROM pg_stat_activity WHERE query = 'LISTEN \"sprout_jobs_cancel\"'"
            try await waitFor { try await db.query(listeners).rows[0][0] == .int(hosts.count) }
            // Longer ago than two statements: the tiny jobs no longer count as the hosts' pace.
            try await sleep(0.5)
            let started = monotonicSeconds()
            let naps = try await queue.submitAll((0..<12).map { _ in ClockedNap(seconds: 0.5) })
            var ended: [Int: Int] = [:]
            for nap in naps { ended[nap.id] = try await nap.get(timeout: 30).ended }
            print("12 naps of 0.5 s on \(hosts.count) hosts of \(processes) processes: \(monotonicSeconds() - started) s (1.5 s at best)")
            let ids = PostgresValue.text("{" + naps.map { String($0.id) }.joined(separator: ",") + "}")
            let rows = try await db.query("""
                SELECT id, worker, (extract(epoch FROM started_at) * 1e6)::int8 FROM sprout_jobs WHERE id = ANY($1::bigint[])
                """, [ids]).rows
            let claims = Dictionary(grouping: rows.map { (id: $0[0].int!, host: $0[1].string!, claimed: $0[2].int!) }, by: \.host)
            // Held at a claim: claimed by then and not yet ended in a process (the host holds at
            // least those). Jobs of 0.5 s outlast two statements: one running per process, one next.
            for (host, jobs) in claims {
                let most = jobs.map { claim in jobs.filter { $0.claimed <= claim.claimed && ended[$0.id]! > claim.claimed }.count }.max()!
                print("host \(host) ran \(jobs.count) naps, held \(most) at most")
                #expect(most <= 2 * processes, "host \(host) held \(most) jobs with \(processes) processes")
            }
            #expect(claims.count == hosts.count, "every host ran naps")
            for host in hosts { _ = try await host.stop() }
        }
    }

    @Test func aHostMakesEveryLanesSessionBeforeTheFirstJobComes() async throws {
        try await QueueFixture.run(seconds: 60, host: nil) { fixture in
            let db = fixture.db
            let sessions = "SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend'"
            let before = try await db.query(sessions).rows[0][0].int!
            let host = try QueueHost(fixture.url, processes: 1, lease: 30)
            defer { host.kill() }
            // With the queue quiet: its start-up's session (schema), its listener's, both
            // lanes' and the heartbeats'. The second lane's session, made only when the first
            // jobs came, held the host's first claim 7-8 ms.
            try await waitFor(timeout: 10) { try await db.query(sessions).rows[0][0] == .int(before + 5) }
            #expect(try await fixture.queue.map((0..<50).map(Square.init)) == (0..<50).map { $0 * $0 })
            #expect(try await db.query(sessions).rows[0][0] == .int(before + 5))
            _ = try await host.stop()
        }
    }

    @Test func aHostThatHasRunNothingYetClaimsTwoJobsPerProcessAtOnce() async throws {
        try await QueueFixture.run(seconds: 60, host: .init(processes: 1, lease: 5)) { fixture in
            // Jobs of a length the host cannot know yet: one to run and one next in line (one
            // claim of one job, then a claim per job, when the bound started at one per process).
            let naps = try await fixture.queue.submitAll((0..<4).map { _ in ClockedNap(seconds: 0.3) })
            for nap in naps { _ = try await nap.get(timeout: 30) }
            let ids = PostgresValue.text("{" + naps.map { String($0.id) }.joined(separator: ",") + "}")
            // One claim, one transaction: its jobs share their started_at.
            let claims = try await fixture.db.query("""
                SELECT count(*)::int FROM sprout_jobs WHERE id = ANY($1::bigint[]) GROUP BY started_at ORDER BY started_at
                """, [ids]).rows.map { $0[0].int! }
            #expect(claims.first == 2, "jobs per claim: \(claims)")
            _ = try await fixture.host.stop()
        }
    }

    @Test func aJobSubmittedWhileTheHostsClaimIsInFlightIsClaimedAtOnce() async throws {
        // Leases of 30 s: a host that missed the job's NOTIFY would find it only 10 s later,
        // when its wait for a wake-up times out.
        try await QueueFixture.run(seconds: 120, host: .init(processes: 1, lease: 30)) { fixture in
            let queue = fixture.queue
            // Each job is submitted the moment the previous one's outcome is announced, by the
            // statement that recorded it and claimed nothing more: its NOTIFY often reaches the
            // host before that statement's answer does, and woke the other lane, which left
            // claiming to the one in flight, which then waited.
            var slowest = 0.0
            for n in 0..<50 {
                let started = monotonicSeconds()
                #expect(try await queue.submit(Square(n)).get(timeout: 30) == n * n)
                slowest = max(slowest, monotonicSeconds() - started)
            }
            print("slowest of 50 round trips: \(slowest) s")
            #expect(slowest < slack(3))
            _ = try await fixture.host.stop()
        }
    }

    @Test func anIdleHostClaimsAJobInsertedWithoutANotifyWithinAThirdOfItsLease() async throws {
        // Leases of 3 s: an idle host's statement sessions claim once a second without a wake-up.
        try await QueueFixture.run(seconds: 90, host: .init(processes: 1, lease: 3)) { fixture in
            #expect(try await fixture.queue.submit(Square(2)).get(timeout: 30) == 4)
            try await sleep(1.5)
            // A row written by SQL of one's own, or whose NOTIFY the host missed: nothing wakes it.
            let started = monotonicSeconds()
            let id = try #require(try await fixture.db.query(
                "INSERT INTO sprout_jobs (job_type, payload) VALUES ($1, '{\"n\":3}') RETURNING id", [.text(Square.jobName)]
            ).rows[0][0].int)
            #expect(try await fixture.queue.job(id: id, as: Int.self).get(timeout: 10) == 9)
            let waited = monotonicSeconds() - started
            print("a job inserted without NOTIFY ran after \(waited) s (lease 3 s)")
            // A third of the lease, then the claim, the run and the answer.
            #expect(waited < 1 + slack(1))
            _ = try await fixture.host.stop()
        }
    }

    @Test func aClaimDoesNotWaitForAnswersBeingRecorded() async throws {
        // Leases of 30 s: the host's statements may wait 10 s before they time out.
        try await QueueFixture.run(seconds: 90, host: .init(processes: 1, lease: 30)) { fixture in
            let queue = fixture.queue, db = fixture.db
            let held = try await queue.submit(Nap(seconds: 0.2))
            try await waitFor { try await fixture.state(of: held.id) == "running" }
            // The job's row locked elsewhere: the statement recording its answer waits for it.
            let locker = try await PostgresConnection.connect(fixture.url)
            defer { locker.close() }
            try await locker.execute("BEGIN")
            try await locker.query("SELECT 1 FROM sprout_jobs WHERE id = $1 FOR UPDATE", [.int(held.id)])
            try await waitFor {
                try await db.query("SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock'").rows[0][0] == .int(1)
            }
            // Before claims and answers were separate statements (5b0565d), a claim that rode
            // with that answer waited with it, and the host claimed nothing else until the lock went.
            let started = monotonicSeconds()
            #expect(try await queue.submit(Square(12)).get(timeout: 8) == 144)
            print("a job submitted while an answer waited: done in \(monotonicSeconds() - started) s")
            try await locker.execute("ROLLBACK")
            #expect(try await held.get(timeout: 30) == 0.2)
            let (status, output) = try await fixture.host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("refused 0"))
        }
    }

    @Test func aStatementTheServerRefusesIsRetriedAndTheHostKeepsItsJob() async throws {
        try await QueueFixture.run(seconds: 90, host: nil) { fixture in
            let db = fixture.db
            // Real server errors (P0001, raised by a trigger) in the host's statements: its
            // first two claims of this test's job and its first two answers for it are
            // refused and rolled back.
            try await dropInjectedFaults(db)
            try await db.execute("""
                CREATE SEQUENCE test_claim_faults; CREATE SEQUENCE test_answer_faults;
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.state = 'running' AND nextval('test_claim_faults') <= 2 THEN
                        RAISE EXCEPTION 'injected: claim refused';
                    END IF;
                    IF NEW.state = 'succeeded' AND nextval('test_answer_faults') <= 2 THEN
                        RAISE EXCEPTION 'injected: answer refused';
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER test_refuse BEFORE UPDATE ON sprout_jobs FOR EACH ROW
                    WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.payload LIKE '%4242424%')
                    EXECUTE FUNCTION test_refuse();
                """)
            let host = try QueueHost(fixture.url, processes: 1, logToStandardOutput: true)
            defer { host.kill() }
            let job = try await fixture.queue.submit(Square(4_242_424))
            #expect(try await job.get(timeout: 20) == 4_242_424 * 4_242_424)
            // Claimed once: the refused answers were sent again under the same lease.
            #expect(try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(1))
            #expect(try await fixture.queue.submit(Square(6)).get(timeout: 20) == 36)
            try await dropInjectedFaults(db)
            let (status, output) = try await host.stop()
            #expect(status == .exited(0))
            #expect(output.contains("injected: claim refused") && output.contains("injected: answer refused"), "\(output)")
        }
    }

    @Test func aHostWhoseSessionsTheServerEndsConnectsAgain() async throws {
        try await QueueFixture.run(seconds: 90) { fixture in
            let queue = fixture.queue
            #expect(try await queue.submit(Square(3)).get(timeout: 20) == 9)
            // The server ends the host's statement sessions, whichever statement (claim or answers)
            // each ran last (FATAL 57P01 on their next statement).
            let ended = try await fixture.db.query("""
                SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                WHERE pid <> pg_backend_pid() AND query LIKE '%UPDATE sprout_jobs AS job%'
                """).rows[0][0].int ?? 0
            #expect(ended >= 1)
            #expect(try await queue.submit(Square(5)).get(timeout: 20) == 25)
            let (status, _) = try await fixture.host.stop()
            #expect(status == .exited(0))
        }
    }

    @Test func aFailedClaimWakesTheOtherHosts() async throws {
        // Leases of 30 s: a host that is not woken claims again only when its wait for a
        // wake-up times out, 10 s later.
        try await QueueFixture.run(seconds: 120, host: nil, emptyTable: true) { fixture in
            let db = fixture.db
            try await dropInjectedFaults(db)
            let failing = try QueueHost(fixture.url, processes: 1, lease: 30)
            defer { failing.kill() }
            let other = try QueueHost(fixture.url, processes: 1, lease: 30)
            defer { other.kill() }
            let listeners = "SELECT count(*)::int FROM pg_stat_activity WHERE query = 'LISTEN \"sprout_jobs_cancel\"'"
            try await waitFor(timeout: 60) { try await db.query(listeners).rows[0][0] == .int(2) }
            // Each claim of `failing` holds the job's row locked for 2 s and is then refused:
            // the other host's claims skip the locked row meanwhile and find nothing.
            try await db.execute("""
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_sleep(2);
                    RAISE EXCEPTION 'injected: claim refused';
                END $$;
                CREATE TRIGGER test_refuse BEFORE UPDATE ON sprout_jobs FOR EACH ROW
                    WHEN (OLD.state = 'available' AND NEW.worker LIKE '%:\(failing.pid)') EXECUTE FUNCTION test_refuse();
                """)
            // `other` stopped until `failing` holds the row: then its claim, woken by the
            // submission, finds the row locked.
            kill(other.pid, SIGSTOP)
            let job = try await fixture.queue.submit(Square(9))
            let sleeping = "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
            try await waitFor(timeout: 60) { try await db.query(sleeping).rows[0][0] == .int(1) }
            let started = monotonicSeconds()
            kill(other.pid, SIGCONT)
            #expect(try await job.get(timeout: 40) == 81)
            let waited = monotonicSeconds() - started
            print("the other host ran the job \(waited) s after it went on (the refused claim held it 2 s at most)")
            #expect(waited < slack(4))
            let worker = try await db.query("SELECT worker LIKE $2 FROM sprout_jobs WHERE id = $1", [.int(job.id), .text("%:\(other.pid)")])
            #expect(worker.rows[0][0] == .bool(true))
            try await dropInjectedFaults(db)
            #expect(try await other.stop().0 == .exited(0))
            #expect(try await failing.stop().0 == .exited(0))
        }
    }

    @Test func aDrainingHostStartsNoJobAfterSIGTERMAndHandsTheOthersBackAtOnce() async throws {
        try await QueueFixture.run(seconds: 120, host: .init(processes: 1, lease: 30), emptyTable: true) { fixture in
            let queue = fixture.queue, db = fixture.db, host = fixture.host
            let listener = try await PostgresConnection.connect(fixture.url)
            defer { listener.close() }
            try await listener.listen("sprout_jobs_available")
            // Tiny jobs ahead of the naps, submitted together: the host's claims grow with the
            // tiny jobs' pace, and the claim that takes the last of them takes naps too, which
            // its pool, having measured tiny jobs, sends ahead to its process.
            let squares = try await queue.submitAll((0..<300).map(Square.init), priority: 1)
            let naps = try await queue.submitAll((0..<6).map { _ in ClockedNap(seconds: 2) })
            for square in squares { _ = try await square.get(timeout: 30) }
            let napIDs = PostgresValue.text("{" + naps.map { String($0.id) }.joined(separator: ",") + "}")
            try await waitFor {
                try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE id = ANY($1::bigint[]) AND state = 'running'",
                                   [napIDs]).rows[0][0].int ?? 0 >= 2
            }
            // The submissions' notifications, read and dropped.
            while try await listener.nextNotification(timeout: 0.2) != nil {}
            let signalled = realtimeMicroseconds()
            let stopping = spawn { try await host.stop() }
            let notified = try await listener.nextNotification(timeout: 10)
            let releasedAt = realtimeMicroseconds()
            #expect(try await stopping.get().0 == .exited(0))
            #expect(notified != nil, "no wake-up for the other hosts after SIGTERM")
            let rows = try await db.query("SELECT id, state, attempts FROM sprout_jobs WHERE id = ANY($1::bigint[])", [napIDs]).rows
            let ran = naps.filter { nap in rows.contains { $0[0] == .int(nap.id) && $0[1] == .text("succeeded") } }
            let handedBack = rows.filter { $0[1] == .text("available") }
            print("after SIGTERM: \(ran.count) naps ran, \(handedBack.count) handed back \(Double(releasedAt - signalled) / 1e6) s after it")
            #expect(ran.count + handedBack.count == naps.count, "\(rows.map(\.values))")
            #expect(!handedBack.isEmpty && handedBack.allSatisfy { $0[2] == .int(0) })
            for nap in ran {
                let span = try await nap.get(timeout: 10)
                #expect(span.started < signalled, "a job started after SIGTERM")
                // Handed back while the job that was running ran on, not after it ended.
                if span.ended > signalled { #expect(releasedAt < span.ended) }
            }
            for nap in naps where !nap.isReady { nap.cancel() }
            for nap in naps { _ = try? await nap.get(timeout: 10) }
        }
    }

    @Test func anExpiredLeaseRequeuesTheJobAndTheLateAnswerIsRefused() async throws {
        try await QueueFixture.run(seconds: 90, host: .init(processes: 1, lease: 1)) { fixture in
            let queue = fixture.queue, db = fixture.db, url = fixture.url
            let cutOff = fixture.host
            let job = try await queue.submit(Nap(seconds: 2))
            try await waitFor { try await queue.counts()["running"] == 1 }
            // Stopped, the host sends no heartbeat; its pool process goes on and finishes.
            kill(cutOff.pid, SIGSTOP)
            let rescuer = try QueueHost(url, processes: 1, lease: 1)
            defer { rescuer.kill() }
            // Once the rescuer holds the job, the cut-off host comes back and answers while the
            // job still runs there: its lease token is no longer the row's.
            try await waitFor {
                try await db.query("SELECT attempts FROM sprout_jobs WHERE id = $1", [.int(job.id)]).rows[0][0] == .int(2)
            }
            kill(cutOff.pid, SIGCONT)
            #expect(try await job.get(timeout: 30) == 2)
            let row = try await db.query("SELECT attempts, worker LIKE $2 FROM sprout_jobs WHERE id = $1",
                                         [.int(job.id), .text("%:\(rescuer.pid)")]).rows[0]
            #expect(row.values == [.int(2), .bool(true)])
            let (status, output) = try await cutOff.stop()
            #expect(status == .exited(0))
            #expect(output.contains("refused 1"))
            let (_, rescuerOutput) = try await rescuer.stop()
            #expect(rescuerOutput.contains("refused 0"))
        }
    }

    @Test func sigtermDrainsTheJobsItHoldsAndClaimsNoMore() async throws {
        try await QueueFixture.run(seconds: 60, host: .init(processes: 1), emptyTable: true) { fixture in
            let queue = fixture.queue, db = fixture.db, host = fixture.host
            // More than the host holds of 50 ms jobs (one per process, plus what it finishes
            // during two statements): some are never claimed.
            let naps = try await (0..<24).asyncMap { _ in try await queue.submit(Nap(seconds: 0.05)) }
            try await waitFor { try await queue.counts()["running", default: 0] >= 1 }
            let (status, _) = try await host.stop()
            #expect(status == .exited(0))
            let counts = try await queue.counts()
            let claimed = try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE attempts > 0").rows[0][0].int ?? -1
            // Every job it claimed finished and was recorded; the others wait for another host.
            #expect(counts["running"] == nil)
            #expect(counts["succeeded"] == claimed)
            #expect(counts["available", default: 0] == 24 - claimed && claimed < 24)
            for nap in naps where !nap.isReady { nap.cancel() }
            // Read, not just joined: an unread failure would be reported as lost.
            for nap in naps { _ = try? await nap.get(timeout: 10) }
        }
    }

    /// A SIGTERM while the host is still starting (connecting, migrating, starting its pool)
    /// drains it like one that comes later: exit 0, every job it claimed recorded. Before,
    /// the host watched SIGTERM only once started, and `Hub.run`'s default ended it with
    /// exit 143 in its first ≈ 50 ms. Sent at several moments from the first at which the
    /// program catches the signal at all (before that, the default action ends any program).
    @Test func aSigtermWhileTheHostStartsDrainsIt() async throws {
        try await QueueFixture.run(seconds: 90, host: nil, emptyTable: true) { fixture in
            let squares = try await fixture.queue.submitAll((0..<20).map(Square.init))
            for delay in [0, 0.005, 0.02, 0.05, 0.1] {
                let host = try QueueHost(fixture.url, processes: 1)
                defer { host.kill() }
                try await host.waitUntilItCatchesSIGTERM()
                if delay > 0 { try await sleep(delay) }
                let (status, output) = try await host.stop()
                #expect(status == .exited(0), "a host sent SIGTERM \(delay) s after it caught the signal")
                #expect(output.contains("refused 0"), "\(output)")
                #expect(try await fixture.queue.counts()["running"] == nil, "a job it claimed was left running")
            }
            // The jobs none of them claimed run on a host that is left to start.
            let host = try QueueHost(fixture.url, processes: 1)
            defer { host.kill() }
            for (index, square) in squares.enumerated() { #expect(try await square.get(timeout: 30) == index * index) }
            // The others may have run them all: this one may still be starting.
            try await host.waitUntilItCatchesSIGTERM()
            let (status, _) = try await host.stop()
            #expect(status == .exited(0))
        }
    }

    @Test func aDrainedHostExitsOnceItsLastJobIsRecorded() async throws {
        // Leases of 30 s: an idle host wakes every 10 s, so an exit that waits for its next
        // wake-up after the last answer is late by seconds.
        try await QueueFixture.run(seconds: 60, host: .init(processes: 1, lease: 30), emptyTable: true) { fixture in
            let host = fixture.host
            let nap = try await fixture.queue.submit(Nap(seconds: 1))
            try await waitFor { try await fixture.state(of: nap.id) == "running" }
            let signalled = monotonicSeconds()
            let (status, _) = try await host.stop()
            let draining = monotonicSeconds() - signalled
            #expect(status == .exited(0))
            #expect(try await nap.get(timeout: 10) == 1)
            print("a drained host exited \(draining) s after SIGTERM (its job had at most 1 s left)")
            #expect(draining < slack(5))
        }
    }

    @Test func aClientGoneMidRunLosesNothing() async throws {
        try await QueueFixture.run(seconds: 60) { fixture in
            // The client's sessions end while its jobs are queued and running, as when its
            // process dies: the server sees the same closed connections.
            let gone = try await JobQueue.connect(fixture.url)
            let naps = try await gone.submitAll((1...6).map { Nap(seconds: 0.1 * Double($0)) })
            let ids = naps.map(\.id)
            try await waitFor { try await fixture.state(of: ids[0]) == "running" }
            gone.close()
            // A new client waits on each by its id and reads the outcome recorded meanwhile.
            let other = try await JobQueue.connect(fixture.url)
            defer { other.close() }
            for (index, id) in ids.enumerated() {
                let seconds = try await other.job(id: id, as: Double.self).get(timeout: 30)
                #expect(seconds == 0.1 * Double(index + 1))
            }
            for nap in naps { _ = try? await nap.get(timeout: 1) }
        }
    }

    @Test func closingAClientWithJobsNotAwaitedReportsThemInOneLine() async throws {
        let url = try postgresURL()
        let capture = LogCapture()
        try await reportingHubTo(capture, seconds: 30) {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            // No host runs: the jobs stay queued, and the client closes without their outcomes.
            let queue = try await JobQueue.connect(url, logger: capture.logger(label: "sprout.queue"))
            var naps = try await queue.submitAll((0..<8).map { _ in Nap(seconds: 0.01) })
            queue.close()
            naps.removeAll()
            // A client with no job left closes silently.
            let quiet = try await JobQueue.connect(url, logger: capture.logger(label: "sprout.queue"))
            quiet.close()
            try await db.query("DELETE FROM sprout_jobs")
        }
        #expect(capture.records(containing: "nobody read its error").filter { $0.message.contains("client is closed") }.isEmpty)
        let reports = capture.records.filter { $0.label == "sprout.queue" }
        #expect(reports.count == 1 && reports[0].message.contains("8 jobs"), "\(reports)")
    }

    @Test func closingAClientWhoseListenerIsAboutToReadOutcomesEndsTheListenerQuietly() async throws {
        let url = try postgresURL()
        let capture = LogCapture()
        try await reportingHubTo(capture, seconds: 60) {
            // A database of its own: the test locks the whole table.
            try await withScratchDatabase("sprout_closing", on: url) { url in
                let db = try await PostgresConnection.connect(url)
                defer { db.close() }
                try await closeWhileTheListenerWaitsForTheStatementConnection(url, db: db)
                // The listener's connection closes as its greenlet ends.
                try await waitFor(timeout: 10) {
                    try await db.query(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
                    ).rows[0][0] == .int(0)
                }
                // The greenlet, ended and dropped, has made its report by now, if any.
                try await sleep(0.1)
            }
        }
        let reports = capture.records(containing: "nobody read its error").filter { $0.message.contains("job queue completions") }
        #expect(reports.isEmpty, "\(reports)")
    }

    @Test func aReadOfOutcomesTheServerCancelsIsMadeAgainAndTheWaitingHandleGetsItsOutcome() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            // A database of its own: the test locks the whole table.
            try await withScratchDatabase("sprout_cancelled_read", on: url) { url in
                let queue = try await JobQueue.connect(url)
                defer { queue.close() }
                // No host runs: the test records the outcome itself.
                let nap = try await queue.submit(Nap(seconds: 0.01))
                let db = try await PostgresConnection.connect(url)
                defer { db.close() }
                let locker = try await PostgresConnection.connect(url)
                defer { locker.close() }
                try await locker.execute("BEGIN; LOCK TABLE sprout_jobs IN ACCESS EXCLUSIVE MODE")
                // Recorded as a host records it, seen once the lock goes, announced by nothing else.
                try await locker.query(
                    "UPDATE sprout_jobs SET state = 'succeeded', result = '0.01', finished_at = now() WHERE id = $1", [.int(nap.id)])
                // Told the job finished, without its output: the client's listener reads it
                // from the table, and the lock holds the read up.
                try await db.notify("sprout_jobs_done", payload: "\(nap.id)")
                let reading = "SELECT id, state, result, error::text FROM sprout_jobs%"
                var held: [PostgresRow] = []
                try await waitFor(timeout: 10) {
                    held = try await db.query(
                        "SELECT pid, query_start::text FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
                        [.text(reading)]).rows
                    return held.count == 1
                }
                try await db.query("SELECT pg_cancel_backend($1::int)", [held[0][0]])
                // That read ended (refused with SQLSTATE 57014) before the lock goes.
                try await waitFor(timeout: 10) {
                    try await db.query(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE pid = $1::int AND state = 'active' AND query_start::text = $2",
                        [held[0][0], held[0][1]]).rows[0][0] == .int(0)
                }
                try await locker.execute("COMMIT")
                #expect(try await nap.get(timeout: 10) == 0.01)
            }
        }
    }

    @Test func aReadCutOffMidwayIsMadeAgainOnANewConnection() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            // A database of its own: the test locks the whole table.
            try await withScratchDatabase("sprout_cut_read", on: url) { url in
                let queue = try await JobQueue.connect(url)
                defer { queue.close() }
                _ = try await queue.submit(Nap(seconds: 0.01))
                let db = try await PostgresConnection.connect(url)
                defer { db.close() }
                let locker = try await PostgresConnection.connect(url)
                defer { locker.close() }
                try await locker.execute("BEGIN; LOCK TABLE sprout_jobs IN ACCESS EXCLUSIVE MODE")
                let counting = spawn { try await queue.counts() }
                let waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT state, count(*)%'"
                var pid: PostgresValue?
                try await waitFor(timeout: 10) {
                    pid = try await db.query(waiting).rows.first?[0]
                    return pid != nil
                }
                // Its session ends midway (the server restarted it, an administrator ended it):
                // a read may run twice, so it goes again on a new connection, and waits there.
                try await db.query("SELECT pg_terminate_backend($1::int)", [pid!])
                try await waitFor(timeout: 10) {
                    let now = try await db.query(waiting).rows.first?[0]
                    return now != nil && now != pid
                }
                try await locker.execute("COMMIT")
                #expect(try await counting.get() == ["available": 1])
            }
        }
    }

    @Test func aHostsReportsGoToTheLoggerItServesWith() async throws {
        try await QueueFixture.run(seconds: 60, host: nil) { fixture in
            let host = try QueueHost(fixture.url, processes: 1, logToStandardOutput: true)
            defer { host.kill() }
            // Its pool reports the process the job killed.
            await #expect(throws: JobQueueError.self) { _ = try await fixture.queue.submit(Die(signal: SIGKILL)).get(timeout: 30) }
            let (_, output) = try await host.stop()
            #expect(output.contains("queue-host") && output.contains("ended"), "\(output)")
        }
    }

    @Test func mapsReadTheirInputAsTheJobsAreNeeded() async throws {
        try await QueueFixture.run(seconds: 120) { fixture in
            let queue = fixture.queue, db = fixture.db
            @Hub func submittedSince(_ id: PostgresValue) async throws -> Int {
                try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE id > $1", [id]).rows[0][0].int ?? -1
            }
            var before = try await fixture.lastID()
            // Across several batches and windows, in input order.
            #expect(try await queue.map((0..<7500).lazy.map(Square.init)) == (0..<7500).map { $0 * $0 })
            #expect(try await submittedSince(before) == 7500)
            // Whole batches of 1,000 (the rows of one statement share its created_at), never
            // the window topped up job by job: 4 times slower (2,400-3,900 jobs/s against 780-1,200).
            let statements = try await db.query("SELECT count(DISTINCT created_at)::int FROM sprout_jobs WHERE id > $1", [before]).rows[0][0]
            #expect(statements == .int(8))

            // An input as good as endless: the consumer takes what it wants and stops; only
            // about that much was ever submitted (a map that read its input first would queue
            // a million jobs before the first output).
            before = try await fixture.lastID()
            var taken = 0
            for try await square in try await queue.imapUnordered((0..<1_000_000).lazy.map(Square.init)) {
                #expect(square >= 0)
                taken += 1
                if taken == 100 {
                    // A slow reader: outputs finished and unread count against the window too.
                    try await sleep(2)
                    let submitted = try await submittedSince(before)
                    #expect(submitted <= 100 + 3000 + 1000, "\(submitted) submitted while the reader paused")
                }
                if taken == 5000 { break }
            }
            // A batch may have been on its way when the consumer stopped; none follows it.
            try await sleep(0.5)
            let submitted = try await submittedSince(before)
            try await sleep(1)
            #expect(try await submittedSince(before) == submitted, "the feed stopped with the consumer")
            print("imapUnordered: 5000 outputs taken, \(submitted) jobs submitted")
            #expect(submitted <= 5000 + 3000 + 1000)
            try await db.query("DELETE FROM sprout_jobs WHERE id > $1", [before])
            _ = try await fixture.host.stop()
        }
    }

    @Test func aFailedMapCancelsTheJobsItSubmittedAndLeftUnread() async throws {
        try await QueueFixture.run(seconds: 90) { fixture in
            let queue = fixture.queue, db = fixture.db
            let before = try await fixture.lastID()
            do {
                _ = try await queue.map((0..<10_000).lazy.map { SquareOrFail($0 == 5 ? -1 : $0) })
                Issue.record("the map did not throw its sixth job's error")
            } catch let error as JobQueueError {
                guard case .failed = error else { throw error }
            }
            // Right after the throw: the window's jobs that had not run are cancelled, not left
            // to run for a caller that is gone (before: 2,418 'available', 0 'cancelled').
            var states: [String: Int] = [:]
            for row in try await db.query(
                "SELECT state, count(*)::int FROM sprout_jobs WHERE id > $1 GROUP BY state", [before]
            ).rows {
                states[row[0].string ?? "?"] = row[1].int ?? 0
            }
            print("after the failed map: \(states)")
            #expect(states["available", default: 0] == 0)
            #expect(states["cancelled", default: 0] > 0)
            #expect(states["failed", default: 0] == 1)
            _ = try await fixture.host.stop()
        }
    }

    @Test func aWaitThatTimesOutLeavesTheJobRunning() async throws {
        try await QueueFixture.run(seconds: 60) { fixture in
            let nap = try await fixture.queue.submit(Nap(seconds: 1))
            await #expect(throws: Timeout.self) { _ = try await nap.get(timeout: 0.1) }
            #expect(try await nap.join(timeout: 0.1) == false)
            #expect(try await fixture.state(of: nap.id) != "cancelled")
            #expect(try await nap.get(timeout: 30) == 1)
            #expect(try await fixture.state(of: nap.id) == "succeeded")
            _ = try await fixture.host.stop()
        }
    }

    @Test func aJobThatCannotBeEncodedFailsAloneAsInAProcessPool() async throws {
        try await QueueFixture.run(seconds: 120) { fixture in
            let queue = fixture.queue
            // Double.nan has no JSON: such a job fails alone, with the error a local pool gives it.
            let jobs = [Nap(seconds: 0), Nap(seconds: .nan), Nap(seconds: 0.001)]
            func isCoding(_ error: (any Error)?) -> Bool {
                if case .coding(let job, _)? = error as? ProcessPoolError { job == Nap.jobName } else { false }
            }
            func text(_ result: Result<Double, any Error>) -> String {
                switch result {
                case .success(let value): "\(value)"
                case .failure(let error): "\(type(of: error)): \(error)"
                }
            }
            @Hub func rowsSince(_ id: PostgresValue) async throws -> Int {
                try await fixture.db.query("SELECT count(*)::int FROM sprout_jobs WHERE id > $1", [id]).rows[0][0].int ?? -1
            }
            try await withProcessPool(workers: 1, executable: builtExecutable("sprout-queue-worker")) { pool in
                var expected: [String] = []
                for try await result in pool.mapResults(jobs) { expected.append(text(result)) }
                var before = try await fixture.lastID()
                let results = try await queue.mapResults(jobs)
                #expect(results.map(text) == expected)
                var failure: (any Error)?
                if case .failure(let error) = results[1] { failure = error }
                #expect(isCoding(failure), "\(results[1])")
                #expect(try await rowsSince(before) == 2, "nothing is inserted for the job that cannot be encoded")

                // map throws its error in its turn; imapUnordered throws it too; submit throws it
                // before sending anything. Each as the pool does.
                var poolError = "", queueError: (any Error)?
                do { _ = try await pool.map(jobs) } catch { poolError = "\(type(of: error)): \(error)" }
                do { _ = try await queue.map(jobs) } catch { queueError = error }
                #expect(isCoding(queueError) && "\(type(of: queueError!)): \(queueError!)" == poolError, "\(String(describing: queueError))")
                // The caller has the map's error: the others it left unread are not reported.
                let capture = LogCapture()
                let previous = Hub.logger
                Hub.logger = capture.logger(label: "sprout.hub")
                await #expect { _ = try await queue.map([Nap(seconds: .nan), Nap(seconds: -.nan)]) } throws: { isCoding($0) }
                Hub.logger = previous
                let reports = capture.records(containing: "nobody read its error").filter { $0.message.contains("Nap") }
                #expect(reports.isEmpty, "\(reports)")
                var unordered: (any Error)?
                do {
                    for try await _ in try await queue.imapUnordered(jobs) {}
                } catch {
                    unordered = error
                }
                #expect(isCoding(unordered), "\(String(describing: unordered))")
                #expect(throws: ProcessPoolError.self) { _ = try pool.submit(Nap(seconds: .nan)) }
                before = try await fixture.lastID()
                await #expect { _ = try await queue.submit(Nap(seconds: .nan)) } throws: { isCoding($0) }
                #expect(try await rowsSince(before) == 0)
            }

            // Across the statements of one submission (the first of 100 jobs, the next of
            // 1,000), every handle in input order, born failed where the job cannot be encoded.
            let unencodable: Set = [0, 99, 100, 101, 1099]
            let before = try await fixture.lastID()
            let handles = try await queue.submitAll((0..<1100).map { Nap(seconds: unencodable.contains($0) ? .nan : 0) })
            #expect(handles.count == 1100)
            #expect(try await rowsSince(before) == 1100 - unencodable.count)
            let inserted = handles.indices.filter { !unencodable.contains($0) }.map { handles[$0].id }
            #expect(inserted == inserted.sorted() && Set(inserted).count == inserted.count && !inserted.contains(0))
            for index in unencodable {
                #expect(handles[index].id == 0 && handles[index].isReady && isCoding(handles[index].error), "job \(index)")
            }
            for index in handles.indices where !unencodable.contains(index) {
                #expect(try await handles[index].get(timeout: 30) == 0)
            }
            // None encodes: no statement, no row.
            let none = try await queue.submitAll([Nap(seconds: .nan), Nap(seconds: .infinity)])
            #expect(none.allSatisfy { $0.id == 0 && isCoding($0.error) })
            #expect(try await rowsSince(before) == 1100 - unencodable.count)
            _ = try await fixture.host.stop()
        }
    }

    @Test func tenThousandJobsWithRandomKillsEachEndExactlyOnce() async throws {
        let seed = testSeed()
        // This run's rows alone, so the table's counts are this run's outcomes.
        try await QueueFixture.run(seconds: 240, host: nil, emptyTable: true) { fixture in
            var random = SplitMix64(seed: seed)
            let queue = fixture.queue, db = fixture.db, url = fixture.url
            var hosts = try (0..<2).map { _ in try QueueHost(url, processes: 2, lease: 1.5) }
            defer { for host in hosts { host.kill() } }
            let count = 10_000 * testScale
            // Half a millisecond of CPU each, so a killed process is usually running one.
            let outcomes = spawn { try await queue.mapResults((0..<count).map { SlowSquare($0, micros: 500) }) }
            var kills = 0
            while !outcomes.isReady, kills < 20 {
                try await sleep(0.1 + Double(random.next() % 200) / 1000)
                let pids = hosts.flatMap(\.poolPIDs)
                if let victim = pids.isEmpty ? nil : pids[Int(random.next() % UInt64(pids.count))] {
                    kill(victim, SIGKILL)
                    kills += 1
                }
                if kills == 10 {
                    // A whole host dies: its leases expire and its jobs run elsewhere.
                    hosts[0].kill()
                    hosts.append(try QueueHost(url, processes: 2, lease: 1.5))
                }
            }
            let results = try await outcomes.get(timeout: 200)
            #expect(results.count == count)
            var succeeded = 0, crashed = 0
            for (n, result) in results.enumerated() {
                switch result {
                case .success(let square):
                    #expect(square == n * n)
                    succeeded += 1
                case .failure(let error):
                    switch error as? JobQueueError {
                    case .workerCrashed?, .leaseExpired?: crashed += 1
                    default: Issue.record("job \(n): unexpected \(error)")
                    }
                }
            }
            let rerun = try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE attempts > 1").rows[0][0].int ?? 0
            print("tenThousandJobsWithRandomKills: \(kills) kills, \(succeeded) succeeded, \(crashed) failed by a kill, \(rerun) re-run elsewhere")
            // One recorded outcome per job, the one its handle got.
            #expect(try await queue.counts() == ["succeeded": succeeded, "failed": crashed].filter { $0.value > 0 })
            for host in hosts.dropFirst() { _ = try await host.stop() }
        }
    }
}

private extension Sequence {
    @Hub
    func asyncMap<T>(_ transform: @Hub (Element) async throws -> T) async throws -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}

/// Now on `CLOCK_REALTIME`, in microseconds since the epoch: the clock of ``ClockedNap``'s spans.
private func realtimeMicroseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return now.tv_sec * 1_000_000 + now.tv_nsec / 1000
}

/// Removes the trigger, function and sequences a test made to inject server errors.
@Hub
private func dropInjectedFaults(_ db: PostgresConnection) async throws {
    try await db.execute("""
        DROP TRIGGER IF EXISTS test_refuse ON sprout_jobs; DROP FUNCTION IF EXISTS test_refuse();
        DROP SEQUENCE IF EXISTS test_claim_faults; DROP SEQUENCE IF EXISTS test_answer_faults;
        """)
}

/// Sets the server's `wal_writer_delay` (`nil`: back to its default) for the crash tests, which
/// need the last moments' WAL unwritten when the server crashes.
@Hub
private func setWALWriterDelay(_ delay: String?, on server: PostgresTestServer) async throws {
    let connection = try await PostgresConnection.connect(server.url)
    defer { connection.close() }
    try await connection.execute(delay.map { "ALTER SYSTEM SET wal_writer_delay = '\($0)'" } ?? "ALTER SYSTEM RESET wal_writer_delay")
    try await connection.execute("SELECT pg_reload_conf()")
}

/// Connects a client to `url`, whose `sprout_jobs` table `db` may lock, and closes it at the
/// moment its completions listener, told of a finished job, has been handed the statement
/// connection but has not yet run: a count holds that connection (a lock holds up the count),
/// the listener waits for its turn, and the count's greenlet closes the client as soon as the
/// count ends, before the listener wakes. Returns with every reference to the client dropped.
@Hub
private func closeWhileTheListenerWaitsForTheStatementConnection(_ url: String, db: PostgresConnection) async throws {
    let queue = try await JobQueue.connect(url)
    // No host runs: the job stays queued, and its handle waits.
    let nap = try await queue.submit(Nap(seconds: 0.01))
    let locker = try await PostgresConnection.connect(url)
    defer { locker.close() }
    try await locker.execute("BEGIN; LOCK TABLE sprout_jobs IN ACCESS EXCLUSIVE MODE")
    let counting = spawn(name: "count, then close") {
        _ = try await queue.counts()
        queue.close()
    }
    try await waitFor(timeout: 10) {
        try await db.query(
            "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT state, count(*)%'"
        ).rows[0][0] == .int(1)
    }
    // The job announced finished without its output: the listener reads it from the table,
    // on the statement connection, and waits for its turn there.
    try await db.listen("sprout_jobs_done")
    try await db.notify("sprout_jobs_done", payload: "\(nap.id)")
    #expect(try await db.nextNotification(timeout: 10) != nil)
    try await sleep(0.2)
    try await locker.execute("COMMIT")
    try await counting.get()
    await #expect(throws: JobQueueError.closed) { _ = try await nap.get(timeout: 1) }
}

/// Runs `body` on the hub (see `onHub`) with the hub's own reports (unread greenlet errors)
/// going to `capture`.
private func reportingHubTo(_ capture: LogCapture, seconds: Double, _ body: @escaping @Hub @Sendable () async throws -> Void) async throws {
    let previous = Hub.logger
    Hub.logger = capture.logger(label: "sprout.hub")
    defer { Hub.logger = previous }
    try await onHub(seconds: seconds, body)
}

/// A job whose encoding throws when `mode` is 1, and is `mode` otherwise (it is never run).
private struct RefusesEncoding: ProcessJob {
    let mode: Int

    func run() -> Int { 0 }

    func encode(to encoder: any Encoder) throws {
        if mode == 1 { throw EncodingError.invalidValue(mode, .init(codingPath: [], debugDescription: "injected: refused")) }
        var container = encoder.singleValueContainer()
        try container.encode(mode)
    }
}

/// The tables as the version-1 library made them.
@Hub
private func makeVersionOneTables(_ db: PostgresConnection) async throws {
    try await db.execute("""
        CREATE TABLE sprout_schema (version int NOT NULL);
        INSERT INTO sprout_schema VALUES (1);
        CREATE TABLE sprout_jobs (
            id bigserial PRIMARY KEY, job_type text NOT NULL, payload text NOT NULL, priority int NOT NULL DEFAULT 0,
            state text NOT NULL DEFAULT 'available'
                CHECK (state IN ('available', 'running', 'succeeded', 'failed', 'cancelled')),
            attempts int NOT NULL DEFAULT 0, max_attempts int NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
            retries int NOT NULL DEFAULT 0, timeout_seconds double precision, lease_token uuid,
            lease_expires_at timestamptz, worker text, result text, error jsonb,
            created_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, finished_at timestamptz);
        CREATE INDEX sprout_jobs_claim ON sprout_jobs (priority DESC, id) WHERE state = 'available';
        CREATE INDEX sprout_jobs_leases ON sprout_jobs (lease_expires_at) WHERE state = 'running';
        CREATE INDEX sprout_jobs_finished ON sprout_jobs (finished_at) WHERE finished_at IS NOT NULL;
        """)
}

/// Runs `body` with the URL of a new, empty database `name` on the test server, and drops the
/// database afterwards, whether `body` returns or throws.
@Hub
private func withScratchDatabase(_ name: String, on url: String, _ body: (String) async throws -> Void) async throws {
    #expect(url.hasSuffix("/postgres"))
    let admin = try await PostgresConnection.connect(url)
    defer { admin.close() }
    try await admin.execute("DROP DATABASE IF EXISTS \(name)")
    try await admin.execute("CREATE DATABASE \(name)")
    do {
        try await body(String(url.dropLast("postgres".count)) + name)
    } catch {
        try? await admin.execute("DROP DATABASE \(name) WITH (FORCE)")
        throw error
    }
    try await admin.execute("DROP DATABASE \(name) WITH (FORCE)")
}
