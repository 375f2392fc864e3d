// gevent's synchronisation primitives in Sprout: Event, AsyncResult, Queue with a
// sentinel, Channel, Semaphore, Lock, Group. Run: swift run SyncPrimitives
import Sprout

try Hub.run {
    // gevent.event.Event: many wait, one sets.
    let ready = Event()
    let waiters = (1...3).map { n in
        spawn { _ = try await ready.wait(); print("waiter \(n) saw the event") }
    }
    ready.set()
    try await joinAll(waiters)

    // gevent.event.AsyncResult: a value that arrives later, once.
    let answer = AsyncResult<Int>()
    spawn { try await sleep(0.01); try answer.set(42) }
    print("answer:", try await answer.get(timeout: 1))

    // gevent.queue.Queue with a sentinel per consumer.
    let tasks = Queue<Int?>()
    let consumers = (1...2).map { name in
        spawn {
            while let task = try await tasks.get() { print("consumer \(name) got \(task)") }
        }
    }
    for task in [1, 2, 3, nil, nil] { try await tasks.put(task) }
    try await joinAll(consumers)

    // gevent.queue.Channel: put waits until a getter takes the item.
    let channel = Channel<String>()
    let taker = spawn { try await channel.get() }
    try await channel.put("hand-over")
    print("taken:", try await taker.get())

    // Semaphore and Lock: at most two at once, then one at a time.
    let slots = Semaphore(value: 2)
    let lock = Lock()
    var inside = 0, most = 0
    let workers = (1...5).map { _ in
        spawn {
            try await slots.withPermit {
                inside += 1
                most = max(most, inside)
                try await sleep(0.01)
                inside -= 1
            }
            try await lock.withLock { try await sleep(0) }
        }
    }
    try await joinAll(workers)
    print("at most \(most) inside at once")

    // gevent.pool.Group: spawn into it, join them all.
    let group = Group()
    for n in 1...3 { group.spawn { try await sleep(0.001 * Double(n)) } }
    _ = try await group.join(timeout: 1)
    print("group done:", group.count == 0)
}
