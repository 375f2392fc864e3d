import SproutPostgres
import Testing

struct PostgresErrorTests {
    /// A server error that ends the session (`pg_terminate_backend`: FATAL 57P01) is a
    /// connection fault, so a queue host remakes its connection; a statement's ERROR is not.
    @Test func aServerErrorOfSeverityFatalOrPanicIsAConnectionFault() {
        func server(_ severity: String, _ sqlState: String) -> PostgresError {
            .server(PostgresServerError(sqlState: sqlState, severity: severity, message: "test"))
        }
        #expect(server("FATAL", "57P01").isConnectionFault)
        #expect(server("PANIC", "XX000").isConnectionFault)
        #expect(!server("ERROR", "57014").isConnectionFault)
        #expect(!server("ERROR", "23505").isConnectionFault)
        #expect(PostgresError.connectionLost("gone").isConnectionFault)
        #expect(!PostgresError.poolTimedOut(seconds: 1).isConnectionFault)
    }
}
