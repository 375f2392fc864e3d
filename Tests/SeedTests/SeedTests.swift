import Testing
import Sprout
import SproutTestSupport

/// Runs every twin of `sprout-seed-twins` (Tests/Helpers/SeedTwins: the seeds' Python
/// examples in Sprout) and checks what it prints against what the seed's example prints,
/// leaving out pids and times, and the order of lines where the seed's order is not fixed.
@Suite("Seed twins", .heavy)
struct SeedTests {
    private static let blog = "https://www.cnblogs.com/2bjiujiu/"

    /// The lines `sprout-seed-twins name` prints; the twin must exit with 0.
    private func run(_ name: String) async throws -> [String] {
        let output = try await onHub(seconds: 50) {
            try await Command(builtExecutable("sprout-seed-twins"), arguments: [name],
                              standardOutput: .pipe, standardError: .pipe).output(timeout: 45)
        }
        let text = String(decoding: output.standardOutput, as: UTF8.self)
        #expect(output.succeeded, "\(name) ended with \(output.status): \(String(decoding: output.standardError, as: UTF8.self))")
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(text.hasSuffix("\n") ? 1 : 0)
    }

    /// The number after `label` in `line` (a pid).
    private func number(after label: String, in line: String) -> Int? {
        guard let range = line.firstRange(of: label) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    // MARK: greenlet and gevent (seed 004)

    @Test func greenletSwitch() async throws {
        #expect(try await run("greenlet-switch") == ["12", "56", "34", "78"])
    }

    @Test func geventSleep0() async throws {
        #expect(try await run("gevent-sleep0") == [
            "Running in foo", "Explicit context to bar",
            "Explicit context switch to foo again", "Implicit context switch back to bar",
        ])
    }

    @Test func geventFetch() async throws {
        let lines = try await run("gevent-fetch")
        let gets = lines.filter { $0.hasPrefix("GET: http://127.0.0.1:") }
        let received = lines.filter { $0.contains(" bytes received from http://127.0.0.1:") }
        #expect(gets.count == 3 && received.count == 3 && lines.count == 6)
        #expect(Array(lines.prefix(3)) == gets, "all three start before any finishes")
        for line in received {
            let path = String(line.split(separator: "/").last!.dropLast())
            #expect(line.hasPrefix("\(path.count * 100 + 100) bytes"), "\(line)")
        }
    }

    // MARK: Process (seeds 000, 001)

    @Test func processJoin() async throws {
        #expect(try await run("process-join") == ["北门吹雪"])
    }

    @Test func processIDs() async throws {
        let lines = try await run("process-ids")
        #expect(lines.count == 2)
        let parent = number(after: "S1>>>子进程id:", in: lines[0])
        #expect(parent != nil && number(after: "它的父进程id:", in: lines[1]) == parent, "the child's parent is the twin")
        #expect(number(after: "当前子进程id:", in: lines[1]) != parent)
    }

    @Test func processIsolation() async throws {
        let lines = try await run("process-isolation")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("当前子进程id:") && lines[0].hasSuffix(" 100"))
        #expect(lines[1] == "主进程 99", "the child's change stayed in the child")
    }

    @Test func tenProcesses() async throws {
        let lines = try await run("ten-processes")
        #expect(lines.first == "主进程执行结束...")
        #expect(Set(lines.filter { $0.hasPrefix("end>>> ") }) == Set((0..<10).map { "end>>> \($0)" }))
        #expect(lines.filter { $0.hasPrefix("S2>>>") }.count == 10 && lines.count == 21)
    }

    @Test func joinInTurn() async throws {
        #expect(try await run("join-in-turn") == (0..<5).map { "第\($0)封邮件发送..." } + ["发送最后一封邮件..."])
    }

    @Test func processSubclass() async throws {
        let lines = try await run("process-subclass")
        #expect(lines.count == 21)
        #expect(Set(lines.filter { $0.hasPrefix("参数:") }) == Set((0..<10).map { "参数:\($0)" }))
        #expect(lines.filter { $0.hasPrefix(">>>子进程id:") }.count == 10)
        #expect(lines.last?.hasPrefix("最后打印子进程id ") == true)
    }

    @Test func threeProcesses() async throws {
        let lines = try await run("three-processes")
        #expect(lines.count == 5)
        #expect(lines.prefix(3).sorted() == ["name safly1", "name safly2", "name safly3"])
        #expect(lines.dropFirst(3).first == "main", "printed after all three joined")
        let seconds = try #require(Double(lines.last ?? ""), "\(lines)")
        #expect(seconds >= 0.2, "each child slept 0.2 s before its join returned")
    }

    @Test func sayHi() async throws {
        let lines = try await run("say-hi")
        #expect(lines.sorted() == (0..<10).map { "say hi \($0)" }.sorted(), "the program waits for its children")
    }

    @Test func daemon() async throws {
        let lines = try await run("daemon")
        let mainDone = try #require(lines.firstIndex(of: "主进程代码执行完毕..."))
        #expect(lines.contains("func2 start...") && lines.firstIndex(of: "func2 start...")! < mainDone)
        #expect(lines.last == "func2 end...", "the non-daemon child is waited for")
        #expect(lines[..<mainDone].filter { $0.hasPrefix("*") }.count >= 1)
        #expect(lines[mainDone...].filter { $0.hasPrefix("*") }.count <= 1,
                "the daemon is stopped when the main code ends (one line may race the stop)")
    }

    // MARK: Pool (seeds 000, 002, 004)

    @Test func poolApplyAsync() async throws {
        #expect(try await run("pool-apply-async") == ["北门吹雪 5050 \(Self.blog)", "5050", "true", "true"])
    }

    @Test func poolImap() async throws {
        let lines = try await run("pool-imap")
        #expect(Set(lines.filter { $0.contains("北门吹雪") }) == ["100 北门吹雪 \(Self.blog)", "200 北门吹雪 \(Self.blog)"])
        #expect(lines.filter { !$0.contains("北门吹雪") } == ["5050", "20100"], "imap keeps the input order")
    }

    @Test func poolApplyAsyncCallback() async throws {
        let lines = try await run("pool-apply-async-callback")
        #expect(lines.first == "end")
        #expect(Set(lines.dropFirst()) == Set((100..<110).map(String.init)) && lines.count == 11)
    }

    @Test func withPool() async throws {
        #expect(try await run("with-pool") == ["[1, 4, 9, 16]", "25"])
    }

    @Test func poolStarmap() async throws {
        #expect(try await run("pool-starmap") == ["[2, 12, 30]"])
    }

    @Test func joblibParallel() async throws {
        #expect(try await run("joblib-parallel") == ["[0, 2, 6, 12, 20]"])
    }

    // MARK: ProcessPoolExecutor (seeds 003, 004)

    @Test func executorShutdownWait() async throws {
        let lines = try await run("executor-shutdown-wait")
        #expect(Set(lines.dropLast()) == Set((0..<5).map { "name safly\($0)" }) && lines.count == 6)
        #expect(lines.last == "main", "shutdown(wait: true) waited for every job")
    }

    @Test func executorSubmitSync() async throws {
        let lines = try await run("executor-submit-sync")
        #expect(lines.count == 11)
        for i in 0..<5 {
            #expect(lines[2 * i].hasPrefix("safly \(i) is piaoing "))
            #expect(lines[2 * i + 1] == "\(i * i)")
        }
        #expect(lines.last?.hasPrefix("主 ") == true)
    }

    @Test func executorSubmitAsync() async throws {
        let lines = try await run("executor-submit-async")
        #expect(lines.count == 11)
        #expect(Set(lines.prefix(5).map { String($0.prefix(7)) }) == Set((0..<5).map { "safly \($0)" }))
        #expect(lines[5].hasPrefix("主 "))
        #expect(Array(lines.suffix(5)) == ["0", "1", "4", "9", "16"])
    }

    @Test func executorWith() async throws {
        #expect(try await run("executor-with") == ["27", "[1, 8, 27]"])
    }

    // MARK: Queue, Pipe, Manager, Array (seeds 000, 002, 004)

    @Test func processQueue() async throws {
        #expect(try await run("process-queue") == ["北门吹雪 \(Self.blog)", "5050"])
    }

    @Test func processPipe() async throws {
        #expect(try await run("process-pipe") == ["北门吹雪 \(Self.blog)", "5050"])
    }

    @Test func queueWithSentinel() async throws {
        let lines = try await run("queue-sentinel")
        #expect(lines.sorted() == ["Processing: 1", "Processing: 2", "Processing: 3"])
    }

    @Test func queueEmpty() async throws {
        #expect(try await run("queue-empty") == ["3", "h1", "h2", "h3", "true"])
    }

    @Test func managerList() async throws {
        #expect(try await run("manager-list") == ["北门吹雪 \(Self.blog)", "[5050, '北门吹雪', '\(Self.blog)']"])
    }

    @Test func managerDict() async throws {
        let lines = try await run("manager-dict")
        #expect(Set(lines.dropLast()) == Set((0..<5).map { "\($0) represent!" }) && lines.count == 6)
        #expect(lines.last == "[0, 1, 2, 3, 4]")
    }

    @Test func valueAndArray() async throws {
        #expect(try await run("value-and-array") == [
            "Result(in process p1): [1, 4, 9, 16]", "Sum of squares(in process p1): 30",
            "Result(in main program): [1, 4, 9, 16]", "Sum of squares(in main program): 30",
        ])
    }

    @Test func arrayWithoutLock() async throws {
        let lines = try await run("array-no-lock")
        #expect(lines.count == 8)
        for i in 0..<2 {
            let values = lines.filter { $0.hasPrefix("\(i) -----> ") }.map { $0.split(separator: " -----> ").last.map(String.init) }
            // Each sees its own change; the other's only if it came first.
            let other = i == 0 ? ["22", "101"] : ["11", "100"]
            #expect(values.count == 4 && values[i] == "\(100 + i)" && other.contains(values[1 - i] ?? "") && values[2...] == ["33", "44"],
                    "\(lines)")
        }
    }

    @Test func managerDictValues() async throws {
        #expect(try await run("manager-dict-values") == ["[100]", "[100, 101]"])
    }

    @Test func arrayWithLock() async throws {
        let lines = try await run("array-with-lock")
        #expect(lines.count == 80)
        var seen: Set<Int> = []
        for group in stride(from: 0, to: lines.count, by: 4) {
            let rows = lines[group..<min(group + 4, lines.count)].map { $0.split(separator: " -----> ").map(String.init) }
            let i = Int(rows[0][0]) ?? -1
            seen.insert(i)
            #expect(rows.map { $0.first } == Array(repeating: "\(i)", count: 4), "a process's four lines stay together under the lock")
            #expect(rows.map { $0.last } == ["\(100 + i)", "22", "33", "44"])
        }
        #expect(seen == Set(0..<20))
    }
}
