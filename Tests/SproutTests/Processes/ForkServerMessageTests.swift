import Testing
@testable import Sprout

import Glibc

/// The fork server's control messages (``ForkServerMessage``).
@Suite("Fork server messages")
struct ForkServerMessageTests {
    /// A fork server that dies with requests still unread leaves ECONNRESET on the parent's
    /// end, which the kernel reports before the answers queued there (a forked worker's own
    /// copy of its server's answer): they are still received, then the end. Taken for the
    /// end, a start that was forked also ran the program again: two workers on one channel.
    @Test func answersQueuedBeforeTheServerDiedAreReceived() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, SocketPairKind.seqpacket, 0, &pair) == 0)
        defer { close(pair[0]) }
        #expect(ForkServerMessage(kind: .startWorker, numbers: [2]).send(on: pair[0]) == 0, "a request the server never reads")
        #expect(ForkServerMessage(kind: .started, numbers: [1, 4242]).send(on: pair[1]) == 0)
        close(pair[1])
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ForkServerMessage.maxBytes, alignment: 8)
        defer { buffer.deallocate() }
        guard case .message(let answer) = ForkServerMessage.receive(on: pair[0], buffer: buffer) else {
            Issue.record("the answer sent before the server's end was lost")
            return
        }
        #expect(answer.kind == .started && answer.numbers == [1, 4242])
        guard case .end = ForkServerMessage.receive(on: pair[0], buffer: buffer) else {
            Issue.record("no end after the answer")
            return
        }
    }
}
