// Node `net` echo server on a free loopback port; prints 'PORT <n>'. Measured by
// echo_bench.py (server CPU per round trip, round trips/s), like `sprout-bench echo-server`;
// its JIT warms up during the measured run, as nothing else in the run is warmed either.
const net = require("net");
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (data) => socket.write(data));
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => console.log("PORT", server.address().port));
process.on("SIGTERM", () => process.exit(0));
