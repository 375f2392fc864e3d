/// Waits for greenlets (or process jobs) to finish — gevent's `joinall`.
///
/// - Parameters:
///   - items: what to wait for; any mix of ``Joinable`` values.
///   - timeout: give up after this many seconds (`nil`: wait as long as it takes).
///   - raiseError: throw the first error any of them ends with (in order of completion),
///     instead of waiting on. A killed greenlet's ``GreenletExit`` is never raised.
///   - count: return once this many have finished.
/// - Returns: the items that finished, in order of completion.
/// - Throws: with `raiseError`, the first error; `CancellationError` if the waiting
///   greenlet is killed. A timeout is not an error: fewer items come back.
@Hub
@discardableResult
public func joinAll(
    _ items: [any Joinable],
    timeout: Double? = nil,
    raiseError: Bool = false,
    count: Int? = nil
) async throws -> [any Joinable] {
    if !raiseError && count == nil && timeout == nil {
        // Waiting for all of them in turn costs at most one switch per unfinished item,
        // and none for items that finish while the waiter is queued.
        for item in items where !item.isReady {
            _ = try await item.join(timeout: nil)
        }
        return items
    }
    return try await collect(iwait(items, timeout: timeout, count: count), raiseError: raiseError)
}

/// Waits for greenlets (or process jobs) of one type; see ``joinAll(_:timeout:raiseError:count:)``.
@Hub
@discardableResult
public func joinAll<Item: Joinable>(
    _ items: [Item],
    timeout: Double? = nil,
    raiseError: Bool = false,
    count: Int? = nil
) async throws -> [Item] {
    if !raiseError && count == nil && timeout == nil {
        // Without the round trip through `[any Joinable]`: casting every item there and
        // back costs more than waiting for it.
        for item in items where !item.isReady {
            _ = try await item.join(timeout: nil)
        }
        return items
    }
    return try await collect(iwait(items, timeout: timeout, count: count), raiseError: raiseError)
}

/// The items of `completions` as they finish; with `raiseError`, throws the first error one
/// ended with (a kill's ``GreenletExit`` aside).
@Hub
private func collect<Element>(_ completions: CompletionSequence<Element>, raiseError: Bool) async throws -> [Element] {
    var finished: [Element] = []
    finished.reserveCapacity(completions.count)
    for try await item in completions {
        finished.append(item)
        if raiseError, let error = completions.handle(item).error, !(error is GreenletExit) {
            throw error
        }
    }
    return finished
}
