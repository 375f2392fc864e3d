import Sprout
import SproutBenchSupport

import Glibc

/// The I/O workloads: servers that `bench/compare/peers/echo_bench.py` drives with its
/// shared C load client, the same way it drives the Python and Node servers.
let ioWorkloads: [Workload] = [
    Workload(name: "echo-server", usage: "echo-server: TCP echo on a free loopback port; prints PORT n, runs until SIGTERM") { _ in
        try Hub.run {
            let server = StreamServer(port: 0) { stream in
                while true {
                    let bytes = try await stream.read()
                    if bytes.isEmpty { return }
                    try await stream.write(bytes)
                }
            }
            try server.start()
            print("PORT \(server.port)")
            fflush(nil)  // the harness reads the port through a pipe
            try await server.serveForever()
        }
    },
]
