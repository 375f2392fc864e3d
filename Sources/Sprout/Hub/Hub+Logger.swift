import Logging

extension Hub {
    /// The logger that receives the hub's reports (label `sprout.hub`): an error a greenlet
    /// or ``AsyncResult`` ended with and nobody read, a job that blocks the hub, greenlets
    /// that would not die at shutdown, items a closed queue dropped, a failed accept.
    ///
    /// Until it is set, each report goes to `Logger(label: "sprout.hub")`, made when the
    /// report is, so a `LoggingSystem.bootstrap` done at any time is followed; with no
    /// bootstrap, swift-log's default handler writes the report on standard error.
    /// ``run(logger:_:)`` sets it for the program; async code sets it directly. Reports
    /// arrive from any thread (the blocking monitor has its own).
    public static var logger: Logger {
        get { HubLogger.chosen.withLock { $0 } ?? Logger(label: HubLogger.label) }
        set { HubLogger.chosen.withLock { $0 = newValue } }
    }
}

/// Where ``Hub/logger`` is kept, and the labels of Sprout's loggers.
enum HubLogger {
    static let label = "sprout.hub"
    /// The process pool's reports: worker stderr lines, workers that died or cannot start.
    static let poolLabel = "sprout.pool"
    static let chosen = ThreadMutex<Logger?>(nil)
}
