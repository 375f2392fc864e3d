import Sprout
import SproutPostgres
import SproutPostgresTestSupport
import SproutTestSupport
import Testing

/// The PostgreSQL and job-queue calls' `Duration` overloads take the time their `Double`
/// twins take: a wrong conversion shows in the recorded timeout.
@Suite(.heavy(timeLimit: .seconds(120)), .postgresServer, .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage))
struct DurationPostgresTests {
    @Test func statementsAndNotificationsTakeDurations() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            let slow = try await PostgresConnection.connect(url, timeout: .seconds(10))
            await #expect(throws: PostgresError.timedOut(seconds: 0.2)) {
                _ = try await slow.query("SELECT pg_sleep(5)", timeout: .milliseconds(200))
            }
            let db = try await PostgresConnection.connect(url, timeout: .seconds(10))
            defer { db.close() }
            try await db.execute("SELECT 1; SELECT 2", timeout: .seconds(5))
            let outcomes = try await db.pipeline([PostgresStatement("SELECT 1")], timeout: .seconds(5))
            #expect(outcomes.count == 1)
            #expect(try await db.query("SELECT $1::int", [.int(7)], timeout: .seconds(5)).rows[0][0].int == 7)
            try await db.listen("duration_tests")
            let start = monotonicNanoseconds()
            #expect(try await db.nextNotification(timeout: .milliseconds(80)) == nil)
            let waited = Double(monotonicNanoseconds() - start) / 1e9
            #expect(waited >= 0.075 && waited < slack(2), "waited \(waited) s")

            let pool = PostgresPool(url: url, maxConnections: 1)
            #expect(try await pool.query("SELECT 3", timeout: .seconds(5)).rows[0][0].int == 3)
        }
    }

    @Test func jobTimeoutsAreRecordedInSeconds() async throws {
        let url = try postgresURL()
        try await onHub(seconds: 60) {
            let queue = try await JobQueue.connect(url)
            defer { queue.close() }
            let one = try await queue.submit(DurationTestJob(), timeout: .milliseconds(1500))
            let more = try await queue.submitAll([DurationTestJob(), DurationTestJob()], timeout: .seconds(90))
            let db = try await PostgresConnection.connect(url)
            defer { db.close() }
            // Never waited on here: closing the client must not report them.
            for handle in [one] + more { handle.markObserved() }
            let ids = ([one] + more).map { PostgresValue.int($0.id) }
            let rows = try await db.query("SELECT timeout_seconds FROM sprout_jobs WHERE id = ANY(ARRAY[$1, $2, $3]::bigint[]) ORDER BY id", ids).rows
            #expect(rows.map { $0[0].double } == [1.5, 90, 90])
            _ = try await db.query("DELETE FROM sprout_jobs WHERE id = ANY(ARRAY[$1, $2, $3]::bigint[])", ids)
        }
    }
}

/// A job only submitted, never run: the test reads its recorded timeout.
struct DurationTestJob: ProcessJob {
    func run() -> Int { 0 }
}
