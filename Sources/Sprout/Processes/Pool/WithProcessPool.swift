import Logging

/// Creates a pool, runs `body` with it, and ends the pool — Python's `with Pool() as pool`.
/// When `body` returns, the pool is closed and joined (its jobs finish); when it throws,
/// the pool is terminated. The pool's reports go to `logger` (see ``ProcessPool``).
///
/// - Throws: what `body` throws; what ``ProcessPool/init(workers:executable:maxTasksPerWorker:initializer:coder:killGrace:startTimeout:start:maxPayloadBytes:logger:)``
///   throws; `CancellationError` if the caller is killed.
@Hub
public func withProcessPool<T: Sendable>(
    workers: Int? = nil,
    executable: String? = nil,
    maxTasksPerWorker: Int? = nil,
    initializer: (any ProcessJob)? = nil,
    logger: Logger? = nil,
    _ body: @Hub (ProcessPool) async throws -> T
) async throws -> T {
    let pool = try await ProcessPool(workers: workers, executable: executable,
                                     maxTasksPerWorker: maxTasksPerWorker, initializer: initializer, logger: logger)
    let result: T
    do {
        result = try await body(pool)
    } catch {
        await pool.terminate()
        throw error
    }
    do {
        try await pool.shutdown(wait: true)
    } catch {
        await pool.terminate()
        throw error
    }
    return result
}

/// Runs every job on a pool of `workers` processes made for the occasion and returns the
/// outputs in order — joblib's `Parallel(n_jobs=workers)(delayed(f)(x) for x in xs)`.
///
/// - Throws: the first failed job's error; what creating the pool throws.
@Hub
public func runInParallel<S: Sequence>(
    _ jobs: S,
    workers: Int? = nil,
    executable: String? = nil
) async throws -> [S.Element.Output] where S.Element: ProcessJob {
    try await withProcessPool(workers: workers, executable: executable) { pool in
        try await pool.map(jobs)
    }
}
