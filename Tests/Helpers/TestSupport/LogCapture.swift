import Logging
import Sprout

/// Collects what loggers made by ``logger(label:)`` receive, so a test checks each report's
/// label, level and message — passed as a `logger:` argument, or set as `Hub.logger`
/// (no `LoggingSystem.bootstrap`, which a process may do only once).
public final class LogCapture: Sendable {
    /// One report as a handler received it.
    public struct Record: Sendable, CustomStringConvertible {
        public let label: String
        public let level: Logger.Level
        public let message: String
        public let metadata: Logger.Metadata

        public var description: String { "\(level) \(label): \(message) \(metadata)" }
    }

    private let captured = ThreadMutex<[Record]>([])

    public init() {}

    /// A logger at level `.trace` whose reports this capture keeps.
    public func logger(label: String) -> Logger {
        var logger = Logger(label: label) { label in Handler(label: label, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Every report so far, oldest first.
    public var records: [Record] { captured.withLock { $0 } }

    /// The reports whose message contains `text`.
    public func records(containing text: String) -> [Record] {
        records.filter { $0.message.contains(text) }
    }

    fileprivate func append(_ record: Record) {
        captured.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let label: String
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append(Record(label: label, level: event.level, message: event.message.description,
                                  metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}
