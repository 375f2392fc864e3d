/// Tasks in order, taken from the front by moving an index rather than shifting: the pool's
/// waiting tasks (crashed workers' unfinished tasks go back in front) and each worker's
/// sent-but-unanswered tasks.
struct TaskQueue {
    private var items: [PoolTask] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    /// The tasks, first to come out first.
    var elements: ArraySlice<PoolTask> { items[head...] }

    mutating func append(_ task: PoolTask) {
        items.append(task)
    }

    mutating func append(contentsOf tasks: [PoolTask]) {
        items.append(contentsOf: tasks)
    }

    mutating func pushFront(_ tasks: [PoolTask]) {
        guard !tasks.isEmpty else { return }
        if head >= tasks.count {
            head -= tasks.count
            items.replaceSubrange(head..<(head + tasks.count), with: tasks)
        } else {
            items.replaceSubrange(head..<head, with: tasks)
        }
    }

    mutating func popFirst() -> PoolTask? {
        guard head < items.count else { return nil }
        let task = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return task
    }

    mutating func removeAll() -> [PoolTask] {
        let rest = Array(items[head...])
        items.removeAll()
        head = 0
        return rest
    }
}
