import Sprout
import SproutPostgres
import SproutPostgresTestSupport
import SproutTestSupport
import Testing

/// What the queue tests start with, on their suite's server: a client, a connection of the
/// test's own for reading the table, and one worker host unless the test makes its own.
/// ``run(seconds:host:emptyTable:_:)`` closes and kills them all when the test ends.
@Hub
struct QueueFixture {
    /// How the fixture's host runs: see ``QueueHost/init(_:processes:lease:namespace:durableAnswers:logToStandardOutput:)``.
    struct Host: Sendable {
        var processes = 2
        var lease = 5.0
    }

    let server: PostgresTestServer
    let queue: JobQueue
    let db: PostgresConnection
    private let worker: QueueHost?
    var url: String { server.url }
    /// The fixture's host (a fixture made with `host: nil` has none: its test makes its own).
    var host: QueueHost { worker! }

    /// Runs `body` on the hub within `seconds` with a client, a connection and, if `host` is
    /// given, a worker host; with `emptyTable`, earlier tests' rows are deleted first, so the
    /// table's counts are this test's.
    ///
    /// - Throws: what setting up or `body` throws; ``Sprout/Timeout`` after `seconds`.
    nonisolated static func run(
        seconds: Double, host: Host? = Host(), emptyTable: Bool = false, _ body: @escaping @Hub @Sendable (QueueFixture) async throws -> Void
    ) async throws {
        let server = try #require(PostgresTestServer.current, "the suite needs the .postgresServer trait")
        try await onHub(seconds: seconds) {
            let queue = try await JobQueue.connect(server.url)
            defer { queue.close() }
            let db = try await PostgresConnection.connect(server.url)
            defer { db.close() }
            if emptyTable { try await db.query("DELETE FROM sprout_jobs") }
            let worker = try host.map { try QueueHost(server.url, processes: $0.processes, lease: $0.lease) }
            defer { worker?.kill() }
            try await body(QueueFixture(server: server, queue: queue, db: db, worker: worker))
        }
    }

    /// The largest job id in the table now: the rows of later jobs are this test's.
    func lastID() async throws -> PostgresValue {
        try await db.query("SELECT coalesce(max(id), 0) FROM sprout_jobs").rows[0][0]
    }

    /// Job `id`'s state in the table, `nil` if it has no row.
    func state(of id: Int) async throws -> String? {
        try await db.query("SELECT state FROM sprout_jobs WHERE id = $1", [.int(id)]).rows.first?[0].string
    }
}
