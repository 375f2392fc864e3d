// The seeds' examples (../shared/seeds, the Python originals this project mirrors), one
// Sprout twin each: `sprout-seed-twins NAME` runs the twin and prints what the seed's
// example prints. Tests/SeedTests runs every twin and checks its output; the gevent and
// multiprocessing guides link here.
import Sprout

import Glibc

lineBufferStandardOutput()

try ProcessPool.serveIfWorker(jobs: seedJobs)

let twins: [String: @Hub @Sendable () async throws -> Void] = greenletTwins
    .merging(processTwins) { first, _ in first }
    .merging(poolTwins) { first, _ in first }
    .merging(executorTwins) { first, _ in first }
    .merging(sharingTwins) { first, _ in first }

guard let name = CommandLine.arguments.dropFirst().first, let twin = twins[name] else {
    print("usage: sprout-seed-twins NAME, NAME one of: \(twins.keys.sorted().joined(separator: " "))")
    exit(2)
}
try Hub.run { try await twin() }

