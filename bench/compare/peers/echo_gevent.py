"""gevent StreamServer echo on a free loopback port; prints 'PORT <n>'. A greenlet per
connection with plain recv/sendall, TCP_NODELAY as Sprout's streams have it. Measured by
echo_bench.py (server CPU per round trip, round trips/s), like `sprout-bench echo-server`."""
from gevent.server import StreamServer
import socket


def echo(sock, _address):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        data = sock.recv(65536)
        if not data:
            return
        sock.sendall(data)


server = StreamServer(("127.0.0.1", 0), echo)
server.start()
print("PORT", server.server_port, flush=True)
server.serve_forever()
