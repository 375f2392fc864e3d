"""asyncio echo server with streams (or, with --protocol, a Protocol) on a free loopback
port, on the default loop or with --uvloop on uvloop; prints 'PORT <n>'. asyncio and uvloop
set TCP_NODELAY on their sockets themselves (checked with getsockopt). Measured by echo_bench.py (server CPU per round trip, round trips/s),
like `sprout-bench echo-server`."""
import asyncio, signal, sys


async def handle(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main():
    loop = asyncio.get_running_loop()
    if "--protocol" in sys.argv:
        server = await loop.create_server(Echo, "127.0.0.1", 0)
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    await stop


if "--uvloop" in sys.argv:
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
