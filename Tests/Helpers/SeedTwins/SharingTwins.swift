import Sprout

import Glibc

/// `add(ps_queue, end, name, blog)` of seed 000: puts the total on a process queue.
struct AddToQueue: ProcessJob {
    var queue: ProcessQueue<Int>
    var end: Int
    var name: String
    var blog: String
    func run() async throws -> Done {
        print(name, blog)
        try await queue.put((0...end).reduce(0, +))
        return Done()
    }
}

/// `add(phone_one, end, name, blog)` of seed 000: sends the total down a pipe.
struct AddToPipe: ProcessJob {
    var phone: ProcessPipe<Int>
    var end: Int
    var name: String
    var blog: String
    func run() async throws -> Done {
        print(name, blog)
        try await phone.send((0...end).reduce(0, +))
        return Done()
    }
}

/// `worker(q)` of seed 004: takes tasks until the `None` sentinel (`nil` here).
struct QueueWorker: ProcessJob {
    var queue: ProcessQueue<Int?>
    func run() async throws -> Done {
        while true {
            guard let task = try await queue.get() else { break }
            print("Processing: \(task)")
        }
        return Done()
    }
}

/// What seed 000 appends to its `Manager().list()`: a number and strings.
enum ListItem: Codable, Sendable, CustomStringConvertible {
    case number(Int)
    case text(String)
    /// As Python prints the item inside a list.
    var description: String {
        switch self {
        case .number(let number): "\(number)"
        case .text(let text): "'\(text)'"
        }
    }
}

/// `add(share_list, end, name, blog)` of seed 000.
struct AddToList: ProcessJob {
    var list: SharedList<ListItem>
    var end: Int
    var name: String
    var blog: String
    func run() async throws -> Done {
        print(name, blog)
        try await list.append(.number((0...end).reduce(0, +)))
        try await list.append(.text(name))
        try await list.append(.text(blog))
        return Done()
    }
}

/// `worker(procnum, return_dict)` of seed 002.
struct ReturnIntoDictionary: ProcessJob {
    var procnum: Int
    var returnDict: SharedDictionary<Int, Int>
    func run() async throws -> Done {
        print("\(procnum) represent!")
        try await returnDict.set(procnum, procnum)
        return Done()
    }
}

/// `Foo(lock, temp, i)` of seed 004: under the RLock, sets `temp[0]` and prints the array.
struct FooWithLock: ProcessJob {
    var lock: ProcessRLock
    var temp: SharedArray<Int32>
    var i: Int
    func run() async throws -> Done {
        try await lock.acquire()
        temp[0] = Int32(100 + i)
        for item in temp.values { print(i, "----->", item) }
        try lock.release()
        return Done()
    }
}

/// `square_list(mylist, result, square_sum)` of seed 002 (its code is a picture in the
/// post; this is the well-known example it describes): squares into the shared Array, their
/// sum into the shared Value, both printed from the child.
struct SquareList: ProcessJob {
    var mylist: [Int32]
    var result: SharedArray<Int32>
    var squareSum: SharedValue<Int32>
    func run() -> Done {
        for (idx, num) in mylist.enumerated() { result[idx] = num * num }
        squareSum.value = result.values.reduce(0, +)
        print("Result(in process p1): \(result.values)")
        print("Sum of squares(in process p1): \(squareSum.value)")
        return Done()
    }
}

/// `Foo(i)` of seed 004's "method one": sets `temp[i]` (no lock) and prints the array.
struct SetInArray: ProcessJob {
    var temp: SharedArray<Int32>
    var i: Int
    func run() -> Done {
        temp[i] = Int32(100 + i)
        for item in temp.values { print(i, "----->", item) }
        return Done()
    }
}

/// `Foo(i)` of seed 004's "method two": sets `dic[i]` and prints `dic.values()`.
struct SetInDictionary: ProcessJob {
    var dic: SharedDictionary<Int, Int>
    var i: Int
    func run() async throws -> Done {
        try await dic.set(i, 100 + i)
        // Python 2 lists small integer keys in order.
        print(try await dic.snapshot().sorted { $0.key < $1.key }.map(\.value))
        return Done()
    }
}

/// Queues, pipes, Manager objects and shared memory in seeds 000, 002 and 004.
let sharingTwins: [String: @Hub @Sendable () async throws -> Void] = [
    "process-queue": {
        let psQueue = try ProcessQueue<Int>()
        let ps = ChildProcess(AddToQueue(queue: psQueue, end: 100, name: "北门吹雪", blog: blog), name: "北门吹雪")
        try ps.start()
        try await ps.join()
        print(try await psQueue.get())
    },
    "process-pipe": {
        let (phoneOne, phoneTwo) = try ProcessPipe<Int>.pair()
        let ps = ChildProcess(AddToPipe(phone: phoneOne, end: 100, name: "北门吹雪", blog: blog), name: "北门吹雪")
        try ps.start()
        try await ps.join()
        print(try await phoneTwo.receive().map(String.init) ?? "nothing")
    },
    "queue-sentinel": {
        let tasks: [Int?] = [1, 2, 3, nil, nil]
        let q = try ProcessQueue<Int?>()
        let processes = (0..<2).map { _ in ChildProcess(QueueWorker(queue: q)) }
        for p in processes { try p.start() }
        for task in tasks { try await q.put(task) }
        try await joinAll(processes)
    },
    // Seed 002: `queue.empty()` says when the queue is drained.
    "queue-empty": {
        let queue = try ProcessQueue<String>()
        for word in ["h1", "h2", "h3"] { try await queue.put(word) }
        print(queue.count)
        while !queue.isEmpty { print(try queue.getNowait()) }
        print(queue.isEmpty)
    },
    "manager-list": {
        let shareList = try SharedList<ListItem>()
        let ps = ChildProcess(AddToList(list: shareList, end: 100, name: "北门吹雪", blog: blog), name: "北门吹雪")
        try ps.start()
        try await ps.join()
        let items = try await shareList.snapshot()
        print("[" + items.map(\.description).joined(separator: ", ") + "]")
    },
    "manager-dict": {
        let returnDict = try SharedDictionary<Int, Int>()
        var jobs: [ChildProcess<ReturnIntoDictionary>] = []
        for i in 0..<5 {
            let p = ChildProcess(ReturnIntoDictionary(procnum: i, returnDict: returnDict))
            jobs.append(p)
            try p.start()
        }
        try await joinAll(jobs)
        // Sorted: Python prints them in the order the workers happened to write them.
        print(try await returnDict.snapshot().values.sorted())
    },
    // Seed 002: `Array('i', 4)` and `Value('i')` written by a child, read by the parent.
    "value-and-array": {
        let result = try SharedArray<Int32>(repeating: 0, count: 4)
        let squareSum = try SharedValue<Int32>(0)
        let p1 = ChildProcess(SquareList(mylist: [1, 2, 3, 4], result: result, squareSum: squareSum))
        try p1.start()
        try await p1.join()
        print("Result(in main program): \(result.values)")
        print("Sum of squares(in main program): \(squareSum.value)")
    },
    // Seed 004, method one: two processes change an Array without a lock.
    "array-no-lock": {
        let temp = try SharedArray<Int32>([11, 22, 33, 44])
        for i in 0..<2 { try ChildProcess(SetInArray(temp: temp, i: i)).start() }
    },
    // Seed 004, method two: a Manager dict, each process joined before the next starts.
    "manager-dict-values": {
        let dic = try SharedDictionary<Int, Int>()
        for i in 0..<2 {
            let p = ChildProcess(SetInDictionary(dic: dic, i: i))
            try p.start()
            try await p.join()
        }
    },
    "array-with-lock": {
        let lock = try ProcessRLock()
        let temp = try SharedArray<Int32>([11, 22, 33, 44])
        var children: [ChildProcess<FooWithLock>] = []
        for i in 0..<20 {
            let p = ChildProcess(FooWithLock(lock: lock, temp: temp, i: i))
            try p.start()
            children.append(p)
        }
        try await joinAll(children)
    },
]
