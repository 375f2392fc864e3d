import Testing
@testable import Sprout
import SproutTestSupport

@Suite(.heavy)
struct CompletionTests {
    @Test func onDoneReceivesTheValueOrTheError() async throws {
        let outcomes = try await onHub { () async throws -> [String] in
            let seen = Queue<String>()
            let fine = spawn { () async throws -> Int in try await sleep(0.01); return 42 }
            let broken = spawn { () async throws -> Int in throw Boom(id: 9) }
            for greenlet in [fine, broken] {
                greenlet.onDone { result in
                    switch result {
                    case .success(let value): try? seen.putNowait("value \(value)")
                    case .failure(let error): try? seen.putNowait("error \(error)")
                    }
                }
            }
            return [try await seen.get(timeout: 5), try await seen.get(timeout: 5)]
        }
        #expect(outcomes.sorted() == ["error Boom(id: 9)", "value 42"])
    }

    @Test func onDoneOnAFinishedOneStillRunsWithItsOutcome() async throws {
        let value = try await onHub { () async throws -> Int in
            let greenlet = spawn { 5 }
            try await greenlet.join()
            let seen = Queue<Int>()
            greenlet.onDone { result in try? seen.putNowait((try? result.get()) ?? -1) }
            return try await seen.get(timeout: 5)
        }
        #expect(value == 5)
    }
}
