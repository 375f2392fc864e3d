/// The outcomes a worker host has yet to record, in the order they go, and how a batch the
/// server refused, or whose statement timed out, goes again: in halves, until the answer it
/// refuses is alone. That answer,
/// refused ``tries`` times, is replaced by a failure (``JobQueueError/unrecordable(job:message:)``,
/// the server's reason) that its client's `get()` throws; a failure refused as often is given
/// up: its lease runs out and the job runs again elsewhere, its attempts bounded. So one
/// answer the server will never take (a trigger's check, a constraint it breaks) holds up
/// neither the answers batched with it nor the host's drain.
struct AnswerBacklog {
    /// One job's outcome, with the lease token its row must still hold.
    struct Answer {
        let id: Int
        let token: String
        /// The job type's name, for the failure that replaces a refused answer.
        let job: String
        var state: String
        var result: String?
        var error: String?
        /// Times the server refused it sent alone.
        var refusals = 0
        /// Whether it is the failure recorded in place of a refused answer.
        var replacesRefused = false

        init(id: Int, token: String, job: String, state: String, result: String?, error: String?) {
            self.id = id
            self.token = token
            self.job = job
            self.state = state
            self.result = result
            self.error = error
        }
    }

    /// Refusals of an answer sent alone before it is replaced (and of its replacement before
    /// it is given up): a statement the server refused for a passing reason of its own (a
    /// trigger's check, a conflict) gets two more chances.
    static let tries = 3

    private var answers: [Answer] = []
    /// The answers taken and not yet put back or sent, by id: their leases are still held.
    private var sending: [Int: String] = [:]
    /// How many answers at the front go in each of the next batches (the halves of refused
    /// batches, front first); the answers after them go in batches of the caller's limit.
    private var chunks: [Int] = []

    var isEmpty: Bool { answers.isEmpty }
    var count: Int { answers.count }

    /// Queues `answer` behind the others.
    mutating func append(_ answer: Answer) {
        answers.append(answer)
    }

    /// Whether job `id`'s answer waits here or is being sent.
    func contains(id: Int) -> Bool {
        sending[id] != nil || answers.contains { $0.id == id }
    }

    /// The leases of the answers waiting here or being sent.
    var leases: [(id: Int, token: String)] {
        answers.map { ($0.id, $0.token) } + sending.map { ($0.key, $0.value) }
    }

    /// Takes the next batch to send: the next half of a refused batch, else at most `limit`.
    /// Until it is put back, it is not here.
    mutating func take(limit: Int) -> [Answer] {
        let size = chunks.isEmpty ? min(limit, answers.count) : chunks.removeFirst()
        let batch = Array(answers.prefix(size))
        answers.removeFirst(size)
        for answer in batch { sending[answer.id] = answer.token }
        return batch
    }

    /// Puts back, to go first and whole, a batch whose statement failed for a reason that
    /// says nothing of its answers (see ``mayBeTheRowsFault(_:)``).
    mutating func putBack(_ batch: [Answer]) {
        sent(batch)
        guard !batch.isEmpty else { return }
        answers.insert(contentsOf: batch, at: 0)
        chunks.insert(batch.count, at: 0)
    }

    /// Puts back a batch the server refused with `error`: in halves; an answer sent alone
    /// counts the refusal, and at ``tries`` is replaced by its failure, or, a failure
    /// already, is given up.
    ///
    /// - Returns: the answer given up, if one was.
    mutating func refused(_ batch: [Answer], error: PostgresError) -> Answer? {
        sent(batch)
        guard batch.count == 1, var answer = batch.first else {
            let half = batch.count / 2
            answers.insert(contentsOf: batch, at: 0)
            chunks.insert(contentsOf: [half, batch.count - half].filter { $0 > 0 }, at: 0)
            return nil
        }
        answer.refusals += 1
        if answer.refusals >= Self.tries {
            if answer.replacesRefused { return answer }
            answer.state = "failed"
            answer.result = nil
            answer.error = try? QueueJSON.encode(RecordedError(.unrecordable(job: answer.job, message: error.description)))
            answer.refusals = 0
            answer.replacesRefused = true
        }
        putBack([answer])
        return nil
    }

    /// Forgets `batch`, taken and recorded (or refused because its leases had passed on).
    mutating func sent(_ batch: [Answer]) {
        for answer in batch { sending[answer.id] = nil }
    }

    /// Whether `error` may be the fault of the rows a statement carries, not of the server or
    /// the session: a refusal of class 22 (bad data), 23 (a constraint), P0 (a trigger's
    /// `RAISE`), 38 or 39 (a function's error), and a statement past its time limit (a
    /// trigger slow for one answer would otherwise time its batch out for ever). Any other
    /// refusal (a revoked privilege, a lock or statement timeout, a deadlock, an operator's
    /// cancel, a read-only or failing server, an error without SQLSTATE) and a lost
    /// connection say nothing of the answers: their batch goes again whole, at the next try.
    static func mayBeTheRowsFault(_ error: PostgresError) -> Bool {
        if case .timedOut = error { return true }
        guard !error.isConnectionFault, let state = error.sqlState else { return false }
        return ["22", "23", "P0", "38", "39"].contains(state.prefix(2))
    }
}
