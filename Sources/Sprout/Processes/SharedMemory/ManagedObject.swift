/// What a manager-served object (``SharedDictionary``, ``SharedList``) is made of, on
/// either side: in the process that made it, its state and the channel that serves it;
/// in any other process, a channel to that owner. It answers requests in place in the
/// owner and asks the owner from elsewhere, runs atomic updates either way, and travels
/// (`Codable`) as the name of the owner's socket.
struct ManagedObject<State: Sendable, Request: Codable & Sendable, Reply: ManagedReply>: Codable, Sendable {
    private let channel: ManagerChannel<Request, Reply>
    /// The state and the way requests to it are answered, in the owner only.
    private let owner: (store: ManagedState<State>, answer: @Sendable (Request) -> Reply)?

    /// A new object holding `initial`, served by this process from now on; `answer`
    /// applies one request to the state.
    ///
    /// - Throws: ``ProcessChannelError/system(operation:code:)`` if the socket cannot be made.
    @Hub
    init(kind: String, initial: State, answer: @escaping @Sendable (Request, ManagedState<State>) -> Reply) throws {
        let store = ManagedState(initial)
        let local: @Sendable (Request) -> Reply = { answer($0, store) }
        owner = (store, local)
        channel = try ManagerChannel(kind: kind, answer: local)
    }

    /// Connects to the owner whose socket name `decoder` holds.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    init(from decoder: any Decoder) throws {
        channel = try ManagerChannel(connectingTo: decoder.singleValueContainer().decode(String.self))
        owner = nil
    }

    /// Encodes the name of the socket the owner serves on.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(channel.address)
    }

    /// Applies `request`: in place in the owner, by asking the owner elsewhere.
    ///
    /// - Throws: ``ProcessChannelError`` if the owner cannot be reached.
    func perform(_ request: Request) async throws -> Reply {
        if let owner { return owner.answer(request) }
        return try await channel.ask(request)
    }

    /// Lets `body` change the `part` of the state and stores the result as one atomic
    /// step. In the owner `body` runs once under the state's lock. Elsewhere the part is
    /// read with its version (the `read` request, `value` taking the part from the reply),
    /// changed, and sent back with `replace`; the owner applies it only if nothing changed
    /// meanwhile, else `body` runs again on a fresh read.
    ///
    /// - Throws: what `body` throws (nothing is stored then); ``ProcessChannelError``.
    nonisolated(nonsending) func update<Part, R>(
        _ part: WritableKeyPath<State, Part>,
        read: Request,
        value: (Reply) -> Part,
        replace: (Part, _ ifVersion: UInt64) -> Request,
        _ body: (inout Part) throws -> R
    ) async throws -> R {
        if let owner { return try owner.store.change { try body(&$0[keyPath: part]) } }
        while true {
            let reply = try await channel.ask(read)
            var changed = value(reply)
            let result = try body(&changed)
            if try await channel.ask(replace(changed, reply.version ?? 0)).applied == true { return result }
        }
    }
}
