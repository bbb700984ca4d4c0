#!/usr/bin/env python3
"""A TCP proxy that adds latency, loss and broken connections, for the partition drills.

This kernel has no netem, so a drill puts this proxy between a client and a server (a service
and the broker, a service and its database): the client is given the proxy's address instead of
the server's. Python standard library only.

    faultproxy.py --listen 10.231.0.11:5672 --target 10.231.0.12:5672 [--control FILE] [FAULTS]

Faults (each also a key of the control file, which is read again whenever it changes, so a drill
turns faults on and off while connections stay open):

  delay_ms     each chunk, in either direction, is passed on this much later (order is kept and
               chunks in flight overlap, so throughput stays while every round trip grows by
               twice this);
  jitter_ms    plus a uniform random 0..jitter_ms per chunk (never reordering);
  loss         the fraction of chunks held back a further rto_ms, as a lost TCP segment costs a
               retransmission (TCP repairs loss, so a client sees loss as such stalls);
  rto_ms       that penalty (default 200);
  reset        the fraction of new connections reset at once (RST);
  blackhole    the fraction of new connections accepted and then never answered;
  stall        the fraction of new connections that stop passing bytes, both ways, after
               stall_after_s seconds (default 5), without closing;
  cut          true: every open connection is reset and new ones are refused (a crash of the
               path, as opposed to a silent partition, which netns_partition gives).

It logs one line per connection and per change of faults to stderr, and on SIGTERM closes
everything and exits 0. --seed makes the random draws repeatable.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys
import time

DEFAULTS = {
    "delay_ms": 0.0,
    "jitter_ms": 0.0,
    "loss": 0.0,
    "rto_ms": 200.0,
    "reset": 0.0,
    "blackhole": 0.0,
    "stall": 0.0,
    "stall_after_s": 5.0,
    "cut": False,
}


def log(message):
    print(f"{time.strftime('%H:%M:%S')} faultproxy: {message}", file=sys.stderr, flush=True)


def address(text):
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)


def abort(writer):
    """Closes a connection with an RST rather than a FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class Proxy:
    """The faults in force, the open connections, and the two pumps of each connection."""

    def __init__(self, target, faults, control, rng):
        self.target = target
        self.faults = faults
        self.control = control
        self.rng = rng
        self.open = set()
        self.count = 0

    def draw(self, key):
        return self.rng.random() < float(self.faults[key])

    async def watch_control(self):
        """Rereads the control file whenever its modification time changes (looked at 5 times a second)."""
        seen = None
        while True:
            try:
                stamp = os.stat(self.control).st_mtime_ns
                if stamp != seen:
                    with open(self.control) as f:
                        update = json.load(f)
                    seen = stamp  # only once read whole: a half-written file is read again
                    unknown = set(update) - set(DEFAULTS)
                    if unknown:
                        log(f"control file: unknown keys {sorted(unknown)} ignored")
                    self.faults = {**DEFAULTS, **{k: v for k, v in update.items() if k in DEFAULTS}}
                    log(f"faults now {json.dumps(self.faults, sort_keys=True)}")
                    if self.faults["cut"]:
                        for writer in list(self.open):
                            abort(writer)
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as error:
                log(f"control file unreadable: {error}")
            await asyncio.sleep(0.2)

    async def handle(self, client_reader, client_writer):
        try:
            await self.serve(client_reader, client_writer)
        except asyncio.CancelledError:
            client_writer.close()  # the proxy stops: asyncio.run cancels what is still open

    async def serve(self, client_reader, client_writer):
        """One client connection: refused, black-holed or passed on with the faults in force."""
        self.count += 1
        number = self.count
        peer = client_writer.get_extra_info("peername")
        if self.faults["cut"] or self.draw("reset"):
            log(f"#{number} from {peer}: reset")
            abort(client_writer)
            return
        if self.draw("blackhole"):
            log(f"#{number} from {peer}: black hole")
            self.open.add(client_writer)
            try:
                while await client_reader.read(65536):
                    pass
            finally:
                self.open.discard(client_writer)
                client_writer.close()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError as error:
            log(f"#{number} from {peer}: target unreachable ({error}): reset")
            abort(client_writer)
            return
        stall_at = time.monotonic() + float(self.faults["stall_after_s"]) if self.draw("stall") else None
        log(f"#{number} from {peer}: open" + (" (stalls later)" if stall_at else ""))
        self.open.update((client_writer, server_writer))
        pumps = [
            asyncio.create_task(self.pump(client_reader, server_writer, stall_at)),
            asyncio.create_task(self.pump(server_reader, client_writer, stall_at)),
        ]
        # Both directions run until each has ended (a half-close passes on as one); a reset or
        # any error in one ends both.
        await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
        for task in pumps:
            task.cancel()
        for writer in (client_writer, server_writer):
            self.open.discard(writer)
            writer.close()
        log(f"#{number}: closed")

    async def pump(self, reader, writer, stall_at):
        """Reads chunks and passes each on when it is due: after the delay, in order."""
        queue = asyncio.Queue()

        async def send():
            while True:
                due, chunk = await queue.get()
                if chunk is None:
                    try:
                        writer.write_eof()
                    except OSError:
                        writer.close()
                    return
                pause = due - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.create_task(send())
        last_due = 0.0
        try:
            while True:
                chunk = await reader.read(65536)
                if stall_at is not None and time.monotonic() >= stall_at:
                    # Stalled: holds the connection open and passes nothing, until a cut or the end.
                    while not writer.is_closing():
                        await asyncio.sleep(0.5)
                    raise ConnectionResetError("closed while stalled")
                f = self.faults
                due = time.monotonic() + (float(f["delay_ms"]) + self.rng.uniform(0, float(f["jitter_ms"]))) / 1000
                if chunk and self.draw("loss"):
                    due += float(f["rto_ms"]) / 1000
                last_due = due = max(due, last_due)
                if sender.done():
                    sender.result()  # the other side went away: raises its error
                    return
                await queue.put((due, chunk or None))
                if not chunk:
                    await sender
                    return
        finally:
            sender.cancel()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True, type=address, help="HOST:PORT to accept on")
    parser.add_argument("--target", required=True, type=address, help="HOST:PORT to connect to")
    parser.add_argument("--control", help="a JSON file of faults, read again when it changes")
    parser.add_argument("--seed", type=int, help="seed of the random draws")
    for key, default in DEFAULTS.items():
        if key != "cut":
            parser.add_argument("--" + key.replace("_", "-"), type=float, default=default)
    args = parser.parse_args()
    faults = {key: getattr(args, key) for key in DEFAULTS if key != "cut"} | {"cut": False}
    proxy = Proxy(args.target, faults, args.control, random.Random(args.seed))
    server = await asyncio.start_server(proxy.handle, *args.listen, reuse_address=True)
    log(f"listening on {args.listen[0]}:{args.listen[1]} for {args.target[0]}:{args.target[1]}")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(proxy.watch_control()) if args.control else None
    await stop.wait()
    server.close()
    for writer in list(proxy.open):
        abort(writer)
    if watcher:
        watcher.cancel()
    log("stopped")


if __name__ == "__main__":
    asyncio.run(main())
