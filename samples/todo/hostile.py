#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile clients for the to-do HTTP server (samples/todo/attack.sh runs them).

    hostile.py PORT SCENARIO [ARGS]

Each scenario talks only to 127.0.0.1:PORT, is bounded in time and in
connections, and prints one line per figure, "name: value". Standard
library only.
"""
import asyncio
import sys
import time
import urllib.parse

HOST = "127.0.0.1"


async def request(port, method, path, timeout=10.0):
    """One request on a fresh connection: (status, body), or (0, why)."""
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        return 0, type(e).__name__
    try:
        w.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode())
        await w.drain()
        data = await asyncio.wait_for(r.read(), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        return 0, type(e).__name__
    finally:
        w.close()
    if not data.startswith(b"HTTP/1."):
        return 0, "no answer" if not data else "garbage"
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def q(**kw):
    return urllib.parse.urlencode(kw, quote_via=urllib.parse.quote)


def counts(statuses):
    out = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return " ".join(f"{k}x{v}" for k, v in sorted(out.items(), key=lambda kv: str(kv[0])))


async def long_names(port):
    """Adds to lists whose names are 100 dots and 43 Cyrillic letters."""
    for label, name in (("dots", "." * 100), ("cyrillic", "ж" * 43)):
        got = []
        for i in range(30):
            s, _ = await request(port, "POST", "/add_entry?" + q(list=name, date="2026-01-01", title=f"t{i}"))
            got.append(s)
        print(f"long name {label}: adds answered {counts(got)}")
        s, body = await request(port, "GET", "/entries?" + q(list=name, date="2026-01-01"))
        print(f"long name {label}: read back {s}, {body.count(chr(10)) if s == 200 else 0} entries")
    s, _ = await request(port, "GET", "/entries?" + q(list="healthy", date="2026-01-01"))
    print(f"long names: another list afterwards answers {s}")


async def slowloris(port, conns, secs):
    """`conns` connections that send a header byte every 2 s and never end
    it; meanwhile a fresh client tries a normal request every second."""
    held = []
    for _ in range(conns):
        try:
            r, w = await asyncio.open_connection(HOST, port)
            w.write(b"GET /entries?list=a&date=2026-01-01 HTTP/1.1\r\nX-Slow: ")
            held.append((r, w))
        except OSError:
            break
    print(f"slowloris: {len(held)} connections opened")
    fresh = []
    t_end = time.monotonic() + secs
    while time.monotonic() < t_end:
        for _, w in held:
            try:
                w.write(b"x")
            except OSError:
                pass
        s, _ = await request(port, "GET", "/entries?" + q(list="fresh", date="2026-01-01"), timeout=2.0)
        fresh.append(s)
        await asyncio.sleep(1.0)
    # A connection the server dropped has its answer (408) or an EOF waiting.
    closed = 0
    for r, w in held:
        try:
            data = await asyncio.wait_for(r.read(65536), 0.05)
            if data == b"" or b" 408 " in data:
                closed += 1
        except asyncio.TimeoutError:
            pass  # nothing: still held open
        except (OSError, ConnectionError):
            closed += 1
    print(f"slowloris: fresh clients answered {counts(fresh)}, the last {fresh[-1] if fresh else 0}")
    print(f"slowloris: {closed} of {len(held)} slow connections closed by the server after {secs} s")
    for _, w in held:
        w.close()


async def slow_readers(port, conns, secs):
    """`conns` clients that pipeline requests and never read the answers."""
    held = []
    one = b"GET /entries?list=big&date=2026-01-01 HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(conns):
        r, w = await asyncio.open_connection(HOST, port)
        held.append((r, w))
    sent = 0
    t_end = time.monotonic() + secs
    while time.monotonic() < t_end:
        for _, w in held:
            if w.transport.is_closing():
                continue
            try:
                w.write(one * 100)
                sent += 100
            except OSError:
                pass
        await asyncio.sleep(0.05)
    # The kernel's buffers on our side fill, then the server's: a closed
    # connection is one the server gave up on (reset, or EOF after reading).
    closed = 0
    for r, w in held:
        try:
            w.write(one)
            await asyncio.wait_for(w.drain(), 0.2)
            if w.transport.is_closing():
                closed += 1
        except (OSError, ConnectionError):
            closed += 1
        except asyncio.TimeoutError:
            pass
    print(f"slow readers: {sent} requests pipelined by {conns} clients that never read")
    print(f"slow readers: {closed} of {conns} connections closed by the server after {secs} s")
    for _, w in held:
        w.transport.abort()


async def busy_list(port, lists, flood_secs):
    """While a flood of adds hits list 'busy', first reads of fresh lists."""
    stop = time.monotonic() + flood_secs
    flood_done = 0

    async def flooder(k):
        nonlocal flood_done
        r, w = await asyncio.open_connection(HOST, port)
        i = 0
        while time.monotonic() < stop:
            path = "/add_entry?" + q(list="busy", date="2026-01-01", title=f"f{k}-{i}")
            w.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
            try:
                await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
                line = await asyncio.wait_for(r.readuntil(b"\n"), 10)
            except Exception:
                break
            flood_done += 1
            i += 1
        w.close()

    floods = [asyncio.create_task(flooder(k)) for k in range(8)]
    await asyncio.sleep(1.0)
    statuses, worst = [], 0.0
    for n in range(lists):
        t0 = time.monotonic()
        s, _ = await request(port, "GET", "/entries?" + q(list=f"quiet{n}", date="2026-01-01"), timeout=15.0)
        worst = max(worst, time.monotonic() - t0)
        statuses.append(s)
        if time.monotonic() > stop:
            break
    await asyncio.gather(*floods)
    print(f"busy list: {flood_done} adds to one list in {flood_secs} s")
    print(f"busy list: first reads of {len(statuses)} other lists answered {counts(statuses)}, slowest {worst * 1000:.0f} ms")


async def burst(port, clients, adds):
    """`clients` keep-alive clients add `adds` entries each to their own list;
    prints how many were acknowledged (the attack then stops the server)."""
    oks = 0

    async def client(k):
        nonlocal oks
        r, w = await asyncio.open_connection(HOST, port)
        for i in range(adds):
            path = "/add_entry?" + q(list=f"burst{k}", date="2026-01-01", title=f"e{i}")
            w.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
        await w.drain()
        for i in range(adds):
            try:
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
            except Exception:
                break
            length = 0
            for h in head.split(b"\r\n"):
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            body = await r.readexactly(length)
            if head.split()[1] == b"200" and body == b"OK\n":
                oks += 1
        w.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    print(f"burst: {oks} of {clients * adds} adds acknowledged")


async def count_stored(port, clients, date="2026-01-01"):
    total = 0
    for k in range(clients):
        s, body = await request(port, "GET", "/entries?" + q(list=f"burst{k}", date=date), timeout=30)
        total += body.count("\n") if s == 200 else 0
    print(f"stored: {total} entries")


async def count_list(port, name, date="2026-01-01"):
    s, body = await request(port, "GET", "/entries?" + q(list=name, date=date), timeout=30)
    print(f"stored: {body.count(chr(10)) if s == 200 else 0} entries")


async def many_names(port, names):
    """GETs of `names` fresh list names over 20 keep-alive connections (a
    connection the server closes after an error is opened again)."""
    per = names // 20
    statuses = []

    async def client(k):
        r = w = None
        for i in range(per):
            if w is None:
                r, w = await asyncio.open_connection(HOST, port)
            path = "/entries?" + q(list=f"n{k}-{i}", date="2026-01-01")
            w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            try:
                head = await r.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                statuses.append(0)
                w.close()
                r = w = None
                continue
            length = 0
            for h in head.split(b"\r\n"):
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            await r.readexactly(length)
            statuses.append(int(head.split()[1]))
            if b"Connection: close" in head:
                w.close()
                r = w = None
        if w is not None:
            w.close()

    await asyncio.gather(*(client(k) for k in range(20)))
    print(f"many names: {per * 20} fresh lists read, answered {counts(statuses)}")


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    args = [int(a) if a.isdigit() else a for a in sys.argv[3:]]
    runs = {
        "long_names": long_names,
        "slowloris": slowloris,
        "slow_readers": slow_readers,
        "busy_list": busy_list,
        "burst": burst,
        "count_stored": count_stored,
        "count_list": count_list,
        "many_names": many_names,
    }
    if scenario not in runs:
        sys.exit(f"hostile.py: unknown scenario {scenario}; one of {', '.join(runs)}")
    asyncio.run(runs[scenario](port, *args))


if __name__ == "__main__":
    main()
