import Foundation
import Sprout
import SproutPostgres
import SproutPostgresTestSupport
import SproutTestSupport
import Testing

@Suite(.heavy(timeLimit: .seconds(180)), .postgresServer, .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage))
struct PostgresConnectionTests {
    @Test func decodesEveryTypedColumn() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            let row = try await db.query("""
                SELECT true AS b, 7::int2 AS i2, -70000::int4 AS i4, 9000000000::int8 AS i8,
                       1.5::float4 AS f4, 2.25::float8 AS f8, -12345.0678::numeric AS n, 0.00012::numeric AS small,
                       'héllo'::text AS t, '\\x00ff10'::bytea AS by, '2024-02-29 12:34:56.789012+00'::timestamptz AS ts,
                       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '{"a": [1, 2]}'::json AS j,
                       '{"a": [1, 2]}'::jsonb AS jb, NULL::int AS nothing
                """).rows[0]
            #expect(row["b"] == .bool(true))
            #expect(row["i2"] == .int(7))
            #expect(row["i4"] == .int(-70000))
            #expect(row["i8"] == .int(9_000_000_000))
            #expect(row["f4"] == .double(1.5))
            #expect(row["f8"] == .double(2.25))
            #expect(row["n"] == .numeric("-12345.0678"))
            #expect(row["small"] == .numeric("0.00012"))
            #expect(row["t"] == .text("héllo"))
            #expect(row["by"] == .bytes([0, 255, 16]))
            let expected = Date(timeIntervalSince1970: 1_709_210_096.789012)
            #expect(abs(try #require(row["ts"].date).timeIntervalSince(expected)) < 1e-6)
            #expect(row["u"] == .uuid(UUID(uuidString: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")!))
            #expect(row["j"] == .json(#"{"a": [1, 2]}"#))
            #expect(row["jb"] == .json(#"{"a": [1, 2]}"#))
            #expect(row["nothing"] == .null)
        }
    }

    @Test func parametersRoundTrip() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            let when = Date(timeIntervalSince1970: -86_400 * 400 + 0.25)
            let id = UUID()
            let row = try await db.query(
                "SELECT $1::bool, $2::int8, $3::float8, $4::numeric, $5::text, $6::bytea, $7::timestamptz, $8::uuid, $9::jsonb, $10::int",
                [true, 42, 0.5, .numeric("3.14159"), "it's \"quoted\"", .bytes([1, 0, 2]), .timestamp(when), .uuid(id), .json("[1]"), nil]
            ).rows[0]
            #expect(row.values == [.bool(true), .int(42), .double(0.5), .numeric("3.14159"), .text("it's \"quoted\""),
                                   .bytes([1, 0, 2]), .timestamp(when), .uuid(id), .json("[1]"), .null])
        }
    }

    @Test func serverErrorsCarrySQLStateAndLeaveTheConnectionUsable() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            await #expect(throws: PostgresError.self) { try await db.query("SELEC 1") }
            do {
                try await db.query("SELECT * FROM no_such_table")
                Issue.record("expected an error")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42P01")
            }
            try await db.execute("CREATE TEMP TABLE unique_things (id int PRIMARY KEY)")
            try await db.query("INSERT INTO unique_things VALUES ($1)", [1])
            do {
                try await db.query("INSERT INTO unique_things VALUES ($1)", [1])
                Issue.record("expected an error")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
                guard case .server(let details) = error else { throw error }
                #expect(details.severity == "ERROR")
                #expect(details.detail?.contains("already exists") == true)
            }
            #expect(try await db.query("SELECT 1 + 1").rows[0][0] == .int(2))
        }
    }

    @Test func connectingToAClosedPortFailsClearly() async throws {
        _ = try await onHub {
            await #expect {
                _ = try await PostgresConnection.connect("postgresql://postgres@127.0.0.1:1/postgres", timeout: 5)
            } throws: { error in
                guard case .connectFailed(let message) = error as? PostgresError else { return false }
                return message.contains("refused")
            }
        }
    }

    @Test func transactionsCommitAndRollBack() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            try await db.execute("CREATE TEMP TABLE ledger (amount int)")
            try await db.transaction { try await $0.query("INSERT INTO ledger VALUES (10)") }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await db.transaction { db in
                    try await db.query("INSERT INTO ledger VALUES (20)")
                    throw Abort()
                }
            }
            #expect(try await db.query("SELECT sum(amount)::int FROM ledger").rows[0][0] == .int(10))
        }
    }

    @Test func aStatementRunOftenIsPreparedAndStillRunsWhenTheServerDropsIt() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            try await db.execute("CREATE TEMP TABLE prepared_probe (a int); INSERT INTO prepared_probe VALUES (1), (2), (3)")
            let sql = "SELECT * FROM prepared_probe WHERE a >= $1 ORDER BY a"
            func preparedOnServer() async throws -> Int {
                try await db.query("SELECT count(*)::int FROM pg_prepared_statements WHERE statement = $1", [.text(sql)]).rows[0][0].int!
            }
            for run in 1...PostgresConnection.prepareThreshold {
                #expect(try await preparedOnServer() == 0)
                #expect(try await db.query(sql, [.int(2)]).rows.map { $0[0] } == [.int(2), .int(3)], "run \(run)")
            }
            #expect(try await preparedOnServer() == 1)
            #expect(try await db.query(sql, [.int(3)]).rows.map { $0[0] } == [.int(3)])
            // Dropped by the server: run unprepared, then prepared afresh.
            try await db.execute("DEALLOCATE ALL")
            for _ in 0...PostgresConnection.prepareThreshold {
                #expect(try await db.query(sql, [.int(1)]).rows.count == 3)
            }
            #expect(try await preparedOnServer() == 1)
            // A column added changes `*`: the cached plan cannot be used, the text runs.
            try await db.execute("ALTER TABLE prepared_probe ADD COLUMN b int DEFAULT 7")
            #expect(try await db.query(sql, [.int(3)]).rows.map { $0["b"] } == [.int(7)])
            // Inside a transaction the server's refusal aborted it: thrown, not retried.
            for _ in 0..<PostgresConnection.prepareThreshold { _ = try await db.query(sql, [.int(3)]) }
            try await db.execute("ALTER TABLE prepared_probe DROP COLUMN b")
            await #expect(throws: PostgresError.self) {
                try await db.transaction { db in try await db.query(sql, [.int(3)]) }
            }
            #expect(try await db.query(sql, [.int(3)]).rows.map { $0[0] } == [.int(3)])
            // Transaction statements are prepared like any other.
            for n in 0..<(2 * PostgresConnection.prepareThreshold) {
                try await db.transaction { db in try await db.query("INSERT INTO prepared_probe VALUES ($1)", [.int(10 + n)]) }
            }
            #expect(try await db.query("SELECT count(*)::int FROM prepared_probe WHERE a >= 10").rows[0][0] == .int(10))
        }
    }

    @Test func pipelineSendsAllAndReportsEachOutcome() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            let outcomes = try await db.pipeline([
                PostgresStatement("SELECT $1::int * 2", [21]),
                PostgresStatement("SELECT 1 / 0"),
                PostgresStatement("SELECT 3"),
            ])
            #expect(try outcomes[0].get().rows[0][0] == .int(42))
            #expect(throws: PostgresError.self) { try outcomes[1].get() }
            #expect((try? outcomes[1].get()) == nil)
            if case .failure(let error) = outcomes[1] { #expect(error.sqlState == "22012") }
            #expect((try? outcomes[2].get()) == nil)
            // Back out of pipeline mode: an ordinary query works.
            #expect(try await db.query("SELECT 5").rows[0][0] == .int(5))
        }
    }

    @Test func notificationsArriveWhileIdleAndAsASequence() async throws {
        let url = try postgresURL()
        try await onHub {
            let listener = try await PostgresConnection.connect(url)
            let sender = try await PostgresConnection.connect(url)
            defer { listener.close(); sender.close() }
            try await listener.listen("jobs done")
            #expect(try await listener.nextNotification(timeout: 0.05) == nil)
            let waiting = spawn { try await listener.nextNotification(timeout: 10) }
            try await sleep(0.05)
            try await sender.notify("jobs done", payload: "42")
            let notification = try #require(try await waiting.get(timeout: 10))
            #expect(notification.channel == "jobs done")
            #expect(notification.payload == "42")
            #expect(notification.senderPID == sender.backendPID)
            // Notifications that arrive during a statement are kept for the next wait.
            try await sender.notify("jobs done", payload: "a")
            try await sender.notify("jobs done", payload: "b")
            try await sleep(0.05)
            try await listener.query("SELECT 1")
            var payloads: [String] = []
            for try await next in listener.notificationStream() {
                payloads.append(next.payload)
                if payloads.count == 2 { break }
            }
            #expect(payloads == ["a", "b"])
        }
    }

    @Test func aTerminatedSessionFailsItsWaitersAndStatements() async throws {
        let url = try postgresURL()
        try await onHub {
            let victim = try await PostgresConnection.connect(url)
            let admin = try await PostgresConnection.connect(url)
            defer { victim.close(); admin.close() }
            try await victim.listen("never")
            let waiting = spawn { try await victim.nextNotification(timeout: 10) }
            try await sleep(0.05)
            try await admin.query("SELECT pg_terminate_backend($1)", [.int(Int(victim.backendPID))])
            await #expect {
                _ = try await waiting.get(timeout: 10)
            } throws: { error in
                guard case .connectionLost = error as? PostgresError else { return false }
                return true
            }
            #expect(victim.isClosed)
            await #expect(throws: PostgresError.closed) { try await victim.query("SELECT 1") }
        }
    }

    @Test func aStatementPastItsTimeoutClosesTheConnection() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            let started = monotonicSeconds()
            await #expect(throws: PostgresError.timedOut(seconds: 0.2)) {
                try await db.query("SELECT pg_sleep(5)", timeout: 0.2)
            }
            #expect(monotonicSeconds() - started < 2)
            #expect(db.isClosed)
        }
    }

    @Test func preparingAndRunningAStatementShareOneBound() async throws {
        let url = try postgresURL()
        try await onHub {
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            #expect(db.statementTimeout == PostgresConnection.defaultStatementTimeout)
            db.statementTimeout = 2
            let sql = "SELECT pg_sleep($1)"
            for _ in 1..<PostgresConnection.prepareThreshold { try await db.query(sql, [.double(0)]) }
            // The next run prepares first. Its server session, stopped, holds the prepare for
            // 1.2 s, then the run sleeps 1.2 s: each within the 2-s bound, together past it.
            let backend = pid_t(db.backendPID)
            #expect(kill(backend, SIGSTOP) == 0)
            let resume = spawn {
                try await sleep(1.2)
                kill(backend, SIGCONT)
            }
            let started = monotonicSeconds()
            await #expect(throws: PostgresError.timedOut(seconds: 2)) { try await db.query(sql, [.double(1.2)]) }
            #expect(monotonicSeconds() - started < slack(2.5))
            #expect(db.isClosed)
            try await resume.get(timeout: 10)
        }
    }

    @Test func poolConnectionsBoundTheirStatements() async throws {
        let url = try postgresURL()
        try await onHub {
            let pool = PostgresPool(url: url)
            defer { pool.close() }
            #expect(pool.statementTimeout == PostgresConnection.defaultStatementTimeout)
            let lent = try await pool.withConnection { $0.statementTimeout }
            #expect(lent == PostgresConnection.defaultStatementTimeout)
            let bounded = PostgresPool(url: url, statementTimeout: 0.2)
            defer { bounded.close() }
            let started = monotonicSeconds()
            await #expect(throws: PostgresError.timedOut(seconds: 0.2)) { try await bounded.query("SELECT pg_sleep(5)") }
            #expect(monotonicSeconds() - started < slack(2))
            // The timed-out connection was closed, not lent again.
            let next = try await bounded.query("SELECT 1")
            #expect(next.rows[0][0] == .int(1))
        }
    }

    @Test func poolBoundsConnectionsAndTimesOutAcquiring() async throws {
        let url = try postgresURL()
        try await onHub {
            let pool = PostgresPool(url: url + "?application_name=pool_test", maxConnections: 2, acquireTimeout: 0.2)
            defer { pool.close() }
            let holders = (0..<2).map { _ in
                spawn { try await pool.withConnection { db in try await db.query("SELECT pg_sleep(0.5)") } }
            }
            try await sleep(0.1)
            await #expect(throws: PostgresError.poolTimedOut(seconds: 0.2)) { try await pool.query("SELECT 1") }
            for holder in holders { _ = try await holder.get(timeout: 10) }
            let backends = try await pool.query("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'pool_test'")
            #expect(try #require(backends.rows[0][0].int) <= 2)
        }
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
