"""The peer server: an asyncio Protocol on uvloop answering a small page, with keep-alive
(HTTP/1.1 unless `Connection: close`). It parses only what it needs (the head's end and
the Connection header), so it is a ceiling for uvloop rather than a full HTTP server.

Measured from outside by http_bench.py (wrk's requests/s, after 1 s of warm-up), the same
way as `sprout-bench http-serve` and http_server_node.js."""
import asyncio, signal, sys
import uvloop

BODY = b"Hello, World!"
KEEP = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
        b"Connection: keep-alive\r\n\r\n" % len(BODY)) + BODY
CLOSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
         b"Connection: close\r\n\r\n" % len(BODY)) + BODY


class HTTP(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end].lower(), self.buffer[end + 4:]
            if b"connection: close" in head:
                self.transport.write(CLOSE)
                self.transport.close()
                return
            self.transport.write(KEEP)


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HTTP, "127.0.0.1", port, backlog=1024)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with server:
        await stop


uvloop.run(main(int(sys.argv[1])))
