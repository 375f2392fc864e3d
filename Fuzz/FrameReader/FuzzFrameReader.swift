import FuzzSupport
import Sprout

/// What the reader made of a byte stream: each frame's kind, id, payload (and, for a job
/// frame, its split into name and job bytes; for chunk frames, their items), then the
/// error that ended it.
private struct Outcome: Equatable {
    var frames: [String] = []
    var error: String?
}

private func read(_ input: UnsafeBufferPointer<UInt8>, cuts: [Int]) -> Outcome {
    var reader = FrameReader()
    var outcome = Outcome()
    var start = 0
    for end in cuts + [input.count] {
        reader.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[start..<end])))
        start = end
        do {
            while let frame = try reader.next() {
                var line = "\(frame.kind) \(frame.id) \(frame.payload)"
                do {
                    switch frame.kind {
                    case .job:
                        let (name, job) = try Frame.splitJob(frame.payload)
                        line += " job \(name) \(Array(job))"
                    case .jobChunk:
                        let (name, items) = try JobChunk.split(frame)
                        line += " chunk \(name) \(items.map { "\($0.id):\(Array($0.job))" })"
                    case .chunkOutcomes:
                        let outcomes = try ChunkOutcomes.split(frame.payload)
                        line += " outcomes \(outcomes.map { "\($0.kind):\(Array($0.bytes))" })"
                    default:
                        break
                    }
                } catch {
                    line += " \(error)"
                }
                outcome.frames.append(line)
            }
        } catch {
            outcome.error = "\(error)"
            return outcome
        }
    }
    do {
        try reader.checkComplete()
    } catch {
        outcome.error = "\(error)"
    }
    return outcome
}

/// libFuzzer's entry: the process pool's frame reader never traps, and reading the input
/// whole or at split points derived from it gives the same frames and the same error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let whole = read(input, cuts: [])
    let split = read(input, cuts: splitPoints(for: input))
    if split != whole { invariantBroken("split \(split) differs from whole \(whole)") }
    return 0
}
