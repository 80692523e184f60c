#!/usr/bin/env python3
"""A router's impairment, in user space: what `tc netem` does, for kernels built without it.

Runs inside the middle network namespace of a test. The namespace's policy routing sends
every packet that arrives on its two veths into the TUN device this program opens; it
reads each one, decides its fate (lost, delayed, reordered, queued behind a rate cap) and
writes it back into the TUN device, from where the kernel forwards it on to its
destination. Only UDP is impaired (media); everything else (the TCP of signalling) is
forwarded at once.

    impair_router.py TUN [--loss PCT] [--burst P,R] [--delay MS] [--jitter MS]
                         [--rate KBIT] [--queue BYTES] [--seed N]

--loss    random loss, percent
--burst   Gilbert-Elliott loss: P = chance (percent) of going from the good state to the
          bad one per packet, R = of coming back; every packet in the bad state is lost
--delay   one-way delay added, ms (each direction)
--jitter  each packet's delay varies uniformly by up to this much either way, ms;
          packets overtake each other when it exceeds their spacing (reordering)
--rate    a bottleneck of this many kbit/s (IP bytes), with a drop-tail queue of
          --queue bytes (default 6000)
--drop-server-hello N
          lose the first N datagrams that carry a DTLS ServerHello (the server's second
          flight of the handshake), whatever else happens
--hold-client-hello MS
          hold the first DTLS ClientHello that carries a cookie (message sequence 1) this
          long, so that the client's retransmission of it follows soon after

Prints one JSON line when started, and a summary of counts when it gets SIGTERM.
"""

import argparse
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tun")
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--burst", default=None)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--jitter", type=float, default=0.0)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--queue", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop-server-hello", type=int, default=0)
    ap.add_argument("--hold-client-hello", type=float, default=0.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    burst = None
    if a.burst:
        p, r = (float(x) / 100.0 for x in a.burst.split(","))
        burst = (p, r)
    fd = open_tun(a.tun)
    counts = {"udp": 0, "lost": 0, "dropped_by_cap": 0, "other": 0, "sent": 0,
              "server_hellos_dropped": 0, "client_hellos_held": 0}
    # Per direction (destination address): Gilbert-Elliott state and the bottleneck's
    # time when its queue empties.
    bad = {}
    busy_until = {}
    pending = []  # (due, order, packet)
    order = 0
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({"event": "ready", "tun": a.tun}), flush=True)

    while running:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, pkt = heapq.heappop(pending)
            try:
                os.write(fd, pkt)
                counts["sent"] += 1
            except OSError:
                pass
        timeout = max(0.0, pending[0][0] - now) if pending else 0.2
        try:
            ready, _, _ = select.select([fd], [], [], min(timeout, 0.2))
        except InterruptedError:
            continue
        if not ready:
            continue
        try:
            pkt = os.read(fd, 65535)
        except OSError:
            continue
        now = time.monotonic()
        if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 17:
            counts["other"] += 1
            os.write(fd, pkt)
            continue
        counts["udp"] += 1
        dst = pkt[16:20]
        ihl = (pkt[0] & 0x0F) * 4
        payload = pkt[ihl + 8:]
        # A DTLS handshake record (content type 22) whose first message is a ServerHello (2).
        if (counts["server_hellos_dropped"] < a.drop_server_hello and len(payload) > 13
                and payload[0] == 22 and payload[13] == 2):
            counts["server_hellos_dropped"] += 1
            continue
        held = 0.0
        if (a.hold_client_hello > 0 and counts["client_hellos_held"] == 0
                and len(payload) > 18 and payload[0] == 22 and payload[13] == 1
                and payload[18] == 1):
            counts["client_hellos_held"] += 1
            held = a.hold_client_hello / 1000.0
        lost = rng.random() * 100.0 < a.loss
        if burst is not None:
            state = bad.get(dst, False)
            state = (rng.random() >= burst[1]) if state else (rng.random() < burst[0])
            bad[dst] = state
            lost = lost or state
        if lost:
            counts["lost"] += 1
            continue
        due = now + held
        if a.rate > 0:
            # Serialisation at the bottleneck; a packet that would wait longer than the
            # queue holds is dropped.
            start = max(now, busy_until.get(dst, now))
            wait_bytes = (start - now) * a.rate * 1000.0 / 8.0
            if wait_bytes + len(pkt) > a.queue:
                counts["dropped_by_cap"] += 1
                continue
            busy_until[dst] = start + len(pkt) * 8.0 / (a.rate * 1000.0)
            due = busy_until[dst]
        due += a.delay / 1000.0
        if a.jitter > 0:
            due += rng.uniform(-a.jitter, a.jitter) / 1000.0
        order += 1
        heapq.heappush(pending, (max(due, now), order, pkt))

    print(json.dumps({"event": "summary", **counts}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
