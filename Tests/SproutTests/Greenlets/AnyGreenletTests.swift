import Testing
@testable import Sprout
import SproutTestSupport

@Suite(.heavy)
struct AnyGreenletTests {
    @Test func currentGreenletIsTheRunningGreenletAndCanBeKilledThroughIt() async throws {
        let handles = Queue<any AnyGreenlet>()
        let sleeper = spawn(name: "sleeper") { () async throws -> Int in
            try await handles.put(currentGreenlet()!)
            try await sleep(3600)
            return 1
        }
        let handle = try await handles.get(timeout: 5)
        #expect(handle === sleeper)
        #expect(handle.context.name == "sleeper")
        try await handle.kill()
        #expect(sleeper.isReady && sleeper.error is GreenletExit)
    }

    @Test func insideATimeoutBodyItIsTheCallingGreenlet() async throws {
        let greenlet = spawn { () async throws -> Bool in
            let outer = currentGreenlet()
            let inner = try await withTimeout(5) { currentGreenlet() }
            return outer != nil && inner === outer
        }
        #expect(try await greenlet.get(timeout: 5))
    }

    @Test func outsideAnyGreenletThereIsNone() async throws {
        #expect(currentGreenlet() == nil)
    }

    @Test func anotherGreenletCanJoinTheCurrentOne() async throws {
        let result = try await onHub {
            let handles = Queue<any AnyGreenlet>()
            let worker = spawn { () async throws -> Int in
                try await handles.put(currentGreenlet()!)
                try await sleep(0.02)
                return 7
            }
            let handle = try await handles.get(timeout: 5)
            #expect(try await handle.join())
            return try await worker.get()
        }
        #expect(result == 7)
    }
}
