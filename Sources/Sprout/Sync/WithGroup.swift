/// Runs `body` with a ``Group`` that cannot outlive it (Trio's nursery, the other way
/// round): whatever greenlets are still in the group when `body` returns or throws are
/// killed, and this returns only once they have finished.
///
/// ```swift
/// let first = try await withGroup { group in
///     let results = Queue<String>()
///     for mirror in mirrors { group.spawn { try await results.put(fetch(mirror)) } }
///     return try await results.get()            // the slower fetches are killed
/// }
/// ```
///
/// - Throws: what `body` throws; `CancellationError` if the calling greenlet is killed
///   while waiting for the group's greenlets to finish.
@Hub
public func withGroup<Result>(_ body: @Hub (Group) async throws -> Result) async throws -> Result {
    let group = Group()
    let result: Result
    do {
        result = try await body(group)
    } catch {
        try await group.kill()
        throw error
    }
    try await group.kill()
    return result
}
