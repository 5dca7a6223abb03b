"""A delaying TCP proxy for the benchmark's latency mode: this kernel has no netem, so every byte
between the tools and the fleet's sshd goes through here and is held `one_way` seconds in each
direction (RTT = 2 x one_way), in order, whatever its size. One listening address per fleet host
(127.3.x.y, the same port), so each tool still sees one address per host; the inventories and
known_hosts are rewritten to them (same host keys).

Runs in a thread of the benchmark with its own asyncio loop; stop() closes everything.
"""
import asyncio
import threading
import time


class DelayProxy:
    def __init__(self, targets, port, one_way):
        """targets: the fleet's host addresses; port: their sshd port; one_way: seconds."""
        self.one_way = one_way
        self.port = port
        self.map = {t: f"127.3.{i // 250}.{i % 250 + 2}" for i, t in enumerate(targets)}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(30):
            raise SystemExit("the delaying proxy did not start")

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.servers = []

        async def start():
            for target, listen in self.map.items():
                server = await asyncio.start_server(
                    lambda r, w, t=target: self._serve(r, w, t), listen, int(self.port), backlog=4096
                )
                self.servers.append(server)
            self.ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()
        # Stopped. Connections still open at the end (ansible's ControlPersist masters) are cut
        # here, and the loop runs until each has ended, so none is left pending to complain.
        self.loop.set_exception_handler(lambda loop, context: None)
        tasks = asyncio.all_tasks(self.loop)
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.close()

    async def _pump(self, reader, writer):
        """Copies reader to writer, each chunk written one_way seconds after it was read."""
        queue = asyncio.Queue()

        async def read():
            while True:
                data = await reader.read(65536)
                await queue.put((time.monotonic() + self.one_way, data))
                if not data:
                    return

        async def write():
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    try:
                        writer.write_eof()
                    except OSError:
                        pass
                    return
                writer.write(data)
                await writer.drain()

        try:
            await asyncio.gather(read(), write())
        except (ConnectionError, OSError):
            pass

    async def _serve(self, client_r, client_w, target):
        try:
            up_r, up_w = await asyncio.open_connection(target, int(self.port))
        except OSError:
            client_w.close()
            return
        # The connection itself: the SYN and its answer take a round trip too.
        await asyncio.sleep(2 * self.one_way)
        await asyncio.gather(self._pump(client_r, up_w), self._pump(up_r, client_w))
        for w in (client_w, up_w):
            w.close()

    def rewrite(self, text):
        """`text` (an inventory, known_hosts, a host list) with each fleet address replaced."""
        for target, listen in sorted(self.map.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(f"={target}\n", f"={listen}\n").replace(f"[{target}]", f"[{listen}]")
        return text

    def stop(self):
        def close():
            for s in self.servers:
                s.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(close)
        self.thread.join(10)
