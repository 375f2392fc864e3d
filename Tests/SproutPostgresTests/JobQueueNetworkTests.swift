import Foundation
import Sprout
import SproutPostgres
import SproutPostgresTestSupport
import SproutTestJobs
import SproutTestSupport
import Testing

import Glibc

/// PostgreSQL and two worker hosts in network namespaces of their own, joined by veth
/// pairs with private addresses that exist only inside the namespaces; one host is cut off
/// mid-run. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2.
@Suite(.heavy(timeLimit: .seconds(180)),
       .enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.missingMessage),
       .enabled(if: NetworkNamespaces.canCreate, "network namespaces cannot be created here (needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN, and /usr/sbin/ip)"))
struct JobQueueNetworkTests {
    @Test func aHostCutOffLosesItsJobsToTheOtherAndItsLateAnswersAreRefused() async throws {
        try await onHub(seconds: 150) {
            let net = NetworkNamespaces(tag: "\(getpid() % 100_000)")
            try await net.create()
            do {
                try await run(net)
            } catch {
                await net.remove()
                throw error
            }
            await net.remove()
        }
    }

    @Hub
    private func run(_ net: NetworkNamespaces) async throws {
        let server = try await PostgresTestServer.start(listenAddresses: "10.77.1.1,10.77.2.1", namespace: net.database)
        do {
            try await exercise(net, server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }

    @Hub
    private func exercise(_ net: NetworkNamespaces, _ server: PostgresTestServer) async throws {
        let queue = try await JobQueue.connect(server.socketURL)
        defer { queue.close() }
        let db = try await PostgresConnection.connect(server.socketURL)
        defer { db.close() }
        let cutOff = try QueueHost("postgresql://postgres@10.77.1.1:\(server.port)/postgres", processes: 1, lease: 1.5, namespace: net.hostA)
        defer { cutOff.kill() }
        let naps = try await queue.submitAll((0..<40).map { _ in Nap(seconds: 0.1) })
        try await waitFor {
            try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE state = 'running' AND worker LIKE $1",
                               [.text("%:\(cutOff.pid)")]).rows[0][0].int ?? 0 > 0
        }
        try await net.setLink(net.databaseEndA, up: false)
        let other = try QueueHost("postgresql://postgres@10.77.2.1:\(server.port)/postgres", processes: 1, lease: 1.5, namespace: net.hostB)
        defer { other.kill() }
        // Every job completes, those the cut-off host held included, on the other host.
        for nap in naps { #expect(try await nap.get(timeout: 60) == 0.1) }
        let rerun = try await db.query("SELECT count(*)::int FROM sprout_jobs WHERE attempts > 1").rows[0][0].int ?? 0
        #expect(rerun > 0)
        try await net.setLink(net.databaseEndA, up: true)
        // Back on the network, the cut-off host reconnects and its answers are refused.
        let (status, output) = try await cutOff.stop(timeout: 60)
        #expect(status == .exited(0))
        let refused = Int(output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(refused > 0, "cut-off host printed \(output)")
        _ = try await other.stop()
        #expect(try await queue.counts() == ["succeeded": 40])
        print("network namespaces: \(rerun) jobs re-run after the cut-off, \(refused) late answers refused")
    }
}

/// Three network namespaces made for one test: the database's and two hosts', each host
/// joined to the database's by a veth pair (10.77.1.0/24 and 10.77.2.0/24, inside the
/// namespaces only).
@Hub
struct NetworkNamespaces {
    let database: String
    let hostA: String
    let hostB: String
    let databaseEndA: String
    private let tag: String

    /// True when this process can make namespaces: root with CAP_SYS_ADMIN and
    /// CAP_NET_ADMIN in its effective set, and iproute2 installed.
    nonisolated static var canCreate: Bool {
        guard geteuid() == 0, access("/usr/sbin/ip", X_OK) == 0,
              let status = readFile("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        let sysAdmin: UInt64 = 1 << 21, netAdmin: UInt64 = 1 << 12
        return mask & sysAdmin != 0 && mask & netAdmin != 0
    }

    nonisolated init(tag: String) {
        self.tag = tag
        database = "sprout-db-\(tag)"
        hostA = "sprout-a-\(tag)"
        hostB = "sprout-b-\(tag)"
        databaseEndA = "sdba\(tag)"
    }

    func create() async throws {
        for namespace in [database, hostA, hostB] {
            try await ip(["netns", "add", namespace])
            try await ip(["-n", namespace, "link", "set", "lo", "up"])
        }
        for (host, subnet, hostEnd, databaseEnd) in [(hostA, 1, "sha\(tag)", databaseEndA), (hostB, 2, "shb\(tag)", "sdbb\(tag)")] {
            try await ip(["link", "add", hostEnd, "netns", host, "type", "veth", "peer", "name", databaseEnd, "netns", database])
            try await ip(["-n", host, "addr", "add", "10.77.\(subnet).2/24", "dev", hostEnd])
            try await ip(["-n", database, "addr", "add", "10.77.\(subnet).1/24", "dev", databaseEnd])
            try await ip(["-n", host, "link", "set", hostEnd, "up"])
            try await ip(["-n", database, "link", "set", databaseEnd, "up"])
        }
    }

    /// Takes the database's end of a link down (the host is cut off) or up again.
    func setLink(_ name: String, up: Bool) async throws {
        try await ip(["-n", database, "link", "set", name, up ? "up" : "down"])
    }

    /// Deletes the namespaces, and with them their veth pairs.
    func remove() async {
        for namespace in [database, hostA, hostB] { try? await ip(["netns", "del", namespace]) }
    }

    private func ip(_ arguments: [String]) async throws {
        let output = try await Command("/usr/sbin/ip", arguments: arguments).output(timeout: 10)
        guard output.succeeded else {
            throw PostgresTestServerError(step: "ip " + arguments.joined(separator: " "),
                                          output: String(decoding: output.standardError, as: UTF8.self))
        }
    }
}

/// Waits until `condition` holds, checking every 20 ms, for at most `timeout` seconds.
@Hub
func waitFor(timeout: Double = 20, _ condition: @Hub () async throws -> Bool) async throws {
    let end = monotonicSeconds() + timeout
    while try await !condition() {
        guard monotonicSeconds() < end else { throw Timeout(seconds: timeout) }
        try await sleep(0.02)
    }
}
