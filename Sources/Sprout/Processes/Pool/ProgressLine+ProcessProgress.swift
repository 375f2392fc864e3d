extension ProgressLine {
    /// Redraws the line for a process map's progress — what a ``ProcessPool`` map's
    /// `progress:` takes: `pool.map(jobs, progress: line.update)`.
    public func update(_ progress: ProcessProgress) {
        update(done: progress.done, total: progress.total, failed: progress.failed, rate: progress.rate)
    }
}
