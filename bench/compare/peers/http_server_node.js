// The peer server: Node's http module answering a small page, keep-alive as the client asks.
// Measured from outside by http_bench.py (wrk's requests/s, after 1 s of warm-up), the same
// way as `sprout-bench http-serve` and http_server_uvloop.py.
const http = require("http");
const port = Number(process.argv[2] || 8080);
const body = "Hello, World!";
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
  res.end(body);
}).listen(port, "127.0.0.1");
