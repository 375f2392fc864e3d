/// Where a map's jobs deliver their outcomes: the map itself, told which of its jobs
/// ended, so a map over many jobs needs no closure per job.
@Hub
protocol MapSink: AnyObject {
    /// Job `index` of the map ended with `outcome` (its encoded output, or its error).
    /// Returns false when the output did not decode (the job then failed with that error).
    func received(_ index: Int, _ outcome: Result<ArraySlice<UInt8>, any Error>) -> Bool
    /// The pool was closed: the map pulls the rest of its input without waiting for its
    /// reader, so the pool's `join()` can return.
    func poolClosed()
    /// Stops the map: no more input, and its jobs not yet done fail with ``JobCancelled``.
    func abandon()

    /// Jobs `index`, `index + 1`, … ended with the next `count` outcomes of `records`, which
    /// it reads; `describe(k)` tells the job of the `k`th for a failure's report. Returns
    /// false when an output did not decode (that job then failed with the error).
    func received(_ index: Int, count: Int, from records: inout ChunkOutcomes.Records, describe: (Int) -> String) -> Bool
}
