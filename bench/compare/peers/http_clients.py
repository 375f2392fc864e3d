"""The Python HTTP clients: fetch URL TOTAL times, CONCURRENCY at a time, and print
RESULT <requests/s>.

    http_clients.py KIND URL [TOTAL] [CONCURRENCY] [close|keepalive]

KIND: gevent-socket, gevent-urllib, asyncio-streams, uvloop-streams, aiohttp-uvloop.
The raw-socket clients send a minimal HTTP/1.1 GET and read the answer by its
Content-Length (keep-alive) or to EOF (close).

Measures: TOTAL / seconds from the first request until the last answer is read, with
CONCURRENCY workers each taking the next request (gevent's Pool(100) shape, like
sprout-bench http-fetch). Connections are made inside the timer on every side (Sprout's
too); a client object (aiohttp's session, Sprout's HTTPClient) is built before it. Every
answer's status is checked. The server (http_bench.py) is warmed by wrk before the run."""
import sys, time
from urllib.parse import urlsplit

KIND, URL = sys.argv[1], sys.argv[2]
TOTAL = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
CONCURRENCY = int(sys.argv[4]) if len(sys.argv) > 4 else 100
CLOSE = (sys.argv[5] if len(sys.argv) > 5 else "close") != "keepalive"
PARTS = urlsplit(URL)
HOST, PORT, PATH = PARTS.hostname, PARTS.port or 80, PARTS.path or "/"
REQUEST = (f"GET {PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
           + ("Connection: close\r\n" if CLOSE else "") + "\r\n").encode()


def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def run_gevent_socket():
    from gevent import monkey; monkey.patch_all()
    import socket, gevent
    from gevent.pool import Pool
    left = [TOTAL]

    def worker():
        sock = None
        buffer = b""
        while left[0] > 0:
            left[0] -= 1
            if sock is None:
                sock = socket.create_connection((HOST, PORT))
            sock.sendall(REQUEST)
            if CLOSE:
                data = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                sock.close()
                sock = None
                assert data.startswith(b"HTTP/1.1 200")
            else:
                while b"\r\n\r\n" not in buffer:
                    buffer += sock.recv(65536)
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200")
                length = content_length(head)
                while len(buffer) < length:
                    buffer += sock.recv(65536)
                buffer = buffer[length:]
        if sock is not None:
            sock.close()

    start = time.perf_counter()
    gevent.joinall([gevent.spawn(worker) for _ in range(CONCURRENCY)], raise_error=True)
    return time.perf_counter() - start


def run_gevent_urllib():
    from gevent import monkey; monkey.patch_all()
    import gevent, urllib.request
    left = [TOTAL]

    def worker():
        while left[0] > 0:
            left[0] -= 1
            with urllib.request.urlopen(URL) as response:  # urllib always sends Connection: close
                assert response.status == 200 and response.read()

    start = time.perf_counter()
    gevent.joinall([gevent.spawn(worker) for _ in range(CONCURRENCY)], raise_error=True)
    return time.perf_counter() - start


async def streams_worker(left):
    import asyncio
    reader = writer = None
    while left[0] > 0:
        left[0] -= 1
        if writer is None:
            reader, writer = await asyncio.open_connection(HOST, PORT)
        writer.write(REQUEST)
        if CLOSE:
            data = await reader.read()
            writer.close()
            reader = writer = None
            assert data.startswith(b"HTTP/1.1 200")
        else:
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            await reader.readexactly(content_length(head))
    if writer is not None:
        writer.close()


async def streams_main():
    import asyncio
    left = [TOTAL]
    start = time.perf_counter()
    await asyncio.gather(*(streams_worker(left) for _ in range(CONCURRENCY)))
    return time.perf_counter() - start


async def aiohttp_main():
    import aiohttp
    left = [TOTAL]
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=CLOSE)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker():
            while left[0] > 0:
                left[0] -= 1
                async with session.get(URL) as response:
                    assert response.status == 200 and await response.read()
        import asyncio
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


def main():
    if KIND == "gevent-socket":
        seconds = run_gevent_socket()
    elif KIND == "gevent-urllib":
        seconds = run_gevent_urllib()
    elif KIND == "asyncio-streams":
        import asyncio
        seconds = asyncio.run(streams_main())
    elif KIND == "uvloop-streams":
        import uvloop
        seconds = uvloop.run(streams_main())
    elif KIND == "aiohttp-uvloop":
        import uvloop
        seconds = uvloop.run(aiohttp_main())
    else:
        sys.exit(f"unknown client {KIND}")
    print(f"RESULT {TOTAL / seconds}")


main()
