import Sprout

/// What `JobQueue.imapUnordered` returns the outputs through: it feeds the input to the
/// queue (a ``JobQueueFeed``) as the consumer reads, so jobs submitted and not yet read —
/// queued, running, or finished and waiting here — stay within the feed's window, as with
/// `ProcessPool`'s maps, however slowly the consumer reads. Once the consumer drops the
/// sequence the feed stops (the jobs already submitted run on).
@Hub
final class UnorderedJobOutputs<Jobs: Sequence> where Jobs.Element: ProcessJob {
    typealias Output = Jobs.Element.Output

    private let feed: JobQueueFeed<Jobs>
    /// Outputs arrived and not read yet: `arrived[read...]`.
    private var arrived: [Output] = []
    private var read = 0
    /// Jobs submitted whose output the consumer has not read.
    private var unread = 0
    private var failure: (any Error)?
    private let changed = Event()
    private var feeding: Greenlet<Void>?

    /// Submits the first batch of `feed`.
    ///
    /// - Throws: what submitting it throws.
    init(_ feed: JobQueueFeed<Jobs>) async throws {
        self.feed = feed
        track(try await feed.next(outstanding: 0))
        guard !feed.isExhausted else { return }
        // Holds this object only between its waits, so dropping the sequence ends it (deinit).
        let feed = feed, changed = changed
        feeding = spawn(name: "job queue imapUnordered feed") { [weak self] in
            do {
                while !feed.isExhausted {
                    changed.clear()
                    guard let unread = self?.unreadWhileFeeding else { return }
                    let handles = try await feed.next(outstanding: unread)
                    self?.track(handles)
                    if handles.isEmpty && !feed.isExhausted { _ = try await changed.wait() }
                }
            } catch is CancellationError {
            } catch {
                self?.fail(error)
            }
        }
    }

    /// How many jobs are submitted and unread, or `nil` once a failure ended the sequence.
    private var unreadWhileFeeding: Int? { failure == nil ? unread : nil }

    isolated deinit {
        feeding?.cancel()
    }

    /// The next output in the order the jobs finish; `nil` after the last.
    ///
    /// - Throws: the first failure: a job's ``JobQueueError``, or what submitting a later batch threw.
    func next() async throws -> Output? {
        while true {
            if read < arrived.count {
                let output = arrived[read]
                read += 1
                unread -= 1
                if read >= JobQueue.compactAfter {
                    arrived.removeFirst(read)
                    read = 0
                }
                changed.set()
                return output
            }
            if let failure { throw failure }
            if unread == 0 && feed.isExhausted { return nil }
            changed.clear()
            _ = try await changed.wait()
        }
    }

    private func track(_ handles: [QueuedJob<Output>]) {
        unread += handles.count
        for handle in handles {
            handle.onDone { [weak self] result in
                switch result {
                case .success(let value):
                    self?.arrived.append(value)
                    self?.changed.set()
                case .failure(let error):
                    self?.fail(error)
                }
            }
        }
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        changed.set()
    }
}
