/// What a frame on a worker channel carries.
package enum FrameKind: UInt8, Sendable {
    /// Worker → parent, once at start: the job types it serves (JSON).
    case hello = 1
    /// Parent → worker: run a job; payload is `u16 name length | name | encoded job`.
    case job = 2
    /// Worker → parent: the job with this id returned; payload is its encoded output.
    case result = 3
    /// Worker → parent: the job with this id threw; payload is an encoded ``WireFailure``.
    case failure = 4
    /// Parent → worker: run this job once before any other (the pool's initializer).
    case initialize = 5
    /// Parent → worker: a job that carries descriptors; payload is `u8 count | job payload`,
    /// the descriptors themselves travel on the descriptor channel.
    case jobWithDescriptors = 6
    /// Parent → worker: several jobs of one type, run in order (``JobChunk``); the frame's
    /// id is the first item's, and each item's after it one more (no id is written per item).
    case jobChunk = 7
    /// Worker → parent: the outcomes of consecutive jobs it was sent, oldest first
    /// (``ChunkOutcomes``); the frame's id is the first of them.
    case chunkOutcomes = 8
}
