#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile clients for the echo server (samples/echo/attack.sh runs them).

    hostile.py PORT SCENARIO [ARGS]

Each scenario talks only to 127.0.0.1:PORT, is bounded in time and in
connections, and prints one line per figure, "name: value". Standard
library only.
"""
import socket
import sys
import time

HOST = "127.0.0.1"
LINE = b"x" * 99 + b"\n"


def flood_without_reading(socks, total, stall, limit):
    """Sends lines on every socket in `socks` without reading the echoes,
    until each has sent `total` bytes or its writes were blocked for `stall`
    seconds in a row (the server stopped reading), `limit` seconds at most.
    Returns the bytes sent on each."""
    chunk = LINE * 640  # 64 KB
    sent = [0] * len(socks)
    blocked_since = [None] * len(socks)
    done = [False] * len(socks)
    t_end = time.monotonic() + limit
    while not all(done) and time.monotonic() < t_end:
        progress = False
        for i, s in enumerate(socks):
            if done[i]:
                continue
            try:
                n = s.send(chunk)
                sent[i] += n
                blocked_since[i] = None
                progress = True
                if sent[i] >= total:
                    done[i] = True
            except BlockingIOError:
                now = time.monotonic()
                if blocked_since[i] is None:
                    blocked_since[i] = now
                elif now - blocked_since[i] >= stall:
                    done[i] = True
            except OSError:
                done[i] = True  # dropped already
        if not progress:
            time.sleep(0.01)
    return sent


def dropped(s, wait):
    """Reads what the server sent until it closes: True when it closed (EOF
    or reset) within `wait` seconds."""
    s.setblocking(True)
    s.settimeout(wait)
    try:
        while s.recv(1 << 20):
            pass
        return True
    except (ConnectionError, OSError) as e:
        return not isinstance(e, socket.timeout)


def connect():
    s = socket.create_connection((HOST, PORT))
    greeting = b""
    while not greeting.endswith(b"\n"):
        greeting += s.recv(1)
    s.setblocking(False)
    return s


def flood(mb, write_deadline):
    """One client sends `mb` MB of lines and never reads the echoes."""
    s = connect()
    [sent] = flood_without_reading([s], mb << 20, 2.0, 30.0)
    print(f"flood: {sent >> 20} of {mb} MB sent before the server stopped reading")
    # The server's blocked write began before it stopped reading, which is
    # at least the 2 s stall before the flood gave up: its deadline has
    # passed a second after this sleep. Reading earlier would let the write
    # finish and spoil the test.
    time.sleep(write_deadline + 1)
    print(f"flood: dropped by the server: {'yes' if dropped(s, 5.0) else 'no'}")
    s.close()


def slow_readers(conns, write_deadline):
    """`conns` clients send lines and never read the echoes."""
    socks = [connect() for _ in range(conns)]
    sent = flood_without_reading(socks, 64 << 20, 2.0, 30.0)
    print(f"slow readers: {sum(sent) >> 20} MB sent by {conns} clients that never read")
    time.sleep(write_deadline + 1)  # as in flood: every blocked write's deadline has passed
    gone = sum(1 for s in socks if dropped(s, 2.0))
    print(f"slow readers: {gone} of {conns} dropped by the server")
    for s in socks:
        s.close()


def over_cap(conns):
    """Opens `conns` connections, then one more, then closes one and tries again."""
    socks = []
    for _ in range(conns):
        try:
            socks.append(connect())
        except OSError:
            break
    print(f"over cap: {len(socks)} connections held")
    extra = socket.create_connection((HOST, PORT))
    extra.settimeout(5.0)
    try:
        answer = extra.recv(1024).decode(errors="replace").strip()
    except OSError as e:
        answer = type(e).__name__
    print(f"over cap: one more is told: {answer}")
    extra.close()
    socks.pop().close()
    time.sleep(0.5)
    again = socket.create_connection((HOST, PORT))
    again.settimeout(5.0)
    greeting = again.recv(1024)
    again.sendall(b"hello\n")
    echoed = b""
    try:
        while not echoed.endswith(b"\n"):
            echoed += again.recv(1024)
    except OSError:
        pass
    print(f"over cap: after one left, a new client is echoed: {'yes' if echoed == b'hello' + bytes([10]) else 'no'}"
          f" (greeted {greeting.decode(errors='replace').strip()!r})")
    again.close()
    for s in socks:
        s.close()


def main():
    global PORT
    PORT, scenario = int(sys.argv[1]), sys.argv[2]
    args = [int(a) for a in sys.argv[3:]]
    runs = {"flood": flood, "slow_readers": slow_readers, "over_cap": over_cap}
    if scenario not in runs:
        sys.exit(f"hostile.py: unknown scenario {scenario}; one of {', '.join(runs)}")
    runs[scenario](*args)


if __name__ == "__main__":
    main()
