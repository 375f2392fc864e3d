/// A failed job's error as the `error` column stores it (JSON), so a client in another
/// process can rebuild the ``JobQueueError``.
struct RecordedError: Codable, Sendable {
    var kind: String
    var job: String
    var errorType: String?
    var message: String
    var seconds: Double?
    var attempts: Int?

    init(_ error: JobQueueError) {
        switch error {
        case .failed(let job, let type, let message): self.init(kind: "failed", job: job, errorType: type, message: message)
        case .workerCrashed(let job, let description): self.init(kind: "workerCrashed", job: job, message: description)
        case .timedOut(let job, let seconds): self.init(kind: "timedOut", job: job, message: "", seconds: seconds)
        case .cancelled(let job): self.init(kind: "cancelled", job: job, message: "")
        case .leaseExpired(let job, let attempts): self.init(kind: "leaseExpired", job: job, message: "", attempts: attempts)
        case .undecodable(let job, let message): self.init(kind: "undecodable", job: job, message: message)
        case .unrecordable(let job, let message): self.init(kind: "unrecordable", job: job, message: message)
        default: self.init(kind: "other", job: "", message: error.description)
        }
    }

    private init(kind: String, job: String, errorType: String? = nil, message: String, seconds: Double? = nil, attempts: Int? = nil) {
        self.kind = kind
        self.job = Self.storable(job)
        self.errorType = errorType.map(Self.storable)
        self.message = Self.storable(message)
        self.seconds = seconds
        self.attempts = attempts
    }

    /// `text` with each U+0000 replaced by U+FFFD: the `error` column's JSON (`jsonb`) cannot
    /// hold U+0000 (SQLSTATE 22P05), and an error's text often can (a C string's end in a
    /// message, a crashed process's standard error).
    private static func storable(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value == 0 ? "\u{FFFD}" : $0 }))
    }

    var error: JobQueueError {
        switch kind {
        case "failed": return .failed(job: job, errorType: errorType ?? "Error", message: message)
        case "workerCrashed": return .workerCrashed(job: job, description: message)
        case "timedOut": return .timedOut(job: job, seconds: seconds ?? 0)
        case "cancelled": return .cancelled(job: job)
        case "leaseExpired": return .leaseExpired(job: job, attempts: attempts ?? 0)
        case "unrecordable": return .unrecordable(job: job, message: message)
        default: return .undecodable(job: job, message: message)
        }
    }
}
