#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host's end of the network clients' experiment.

QEMU's socket backend (-netdev socket,udp=127.0.0.1:LISTEN,
localaddr=127.0.0.1:QEMU) sends every frame the guest transmits to
127.0.0.1:LISTEN and delivers to the guest's NIC every datagram sent to
127.0.0.1:QEMU.  This program listens on LISTEN for the guest's requests
(tests/vm/lab-netrx.c) and answers each with one round: COUNT numbered
frames of SIZE bytes at RATE per second to 127.0.0.1:QEMU, then an
end-of-round frame, sent five times, with the number sent and the drops
that QEMU's socket counted meanwhile (/proc/net/udp).  Nothing is ever sent
to another address.  Rates, counts and sizes are capped; the program stops
by itself after IDLE seconds without a request, or when asked to by
--stop-file appearing.  Each round is logged to LOG as one line.

usage: sender.py LISTEN QEMU LOG [--idle S] [--max-rate R] [--max-count N]
"""
import argparse
import os
import socket
import struct
import sys
import time

ETHERTYPE = 0x88B5
MAGIC = 0x4C414259
REQ, DATA, END = 1, 2, 3
HEADER = struct.Struct("!6s6sH")
FRAME = struct.Struct("!IIIIII")
LOOPBACK = "127.0.0.1"


def udp_drops(port):
    """Drops counted by the UDP socket bound to 127.0.0.1:port, or 0."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/udp") as f:
            for line in f:
                cols = line.split()
                if len(cols) > 12 and cols[1] == want:
                    return int(cols[-1])
    except OSError:
        pass
    return 0


def frame(dst, src, kind, rnd, a=0, b=0, c=0, size=64):
    head = HEADER.pack(dst, src, ETHERTYPE) + FRAME.pack(MAGIC, kind, rnd, a, b, c)
    return head + bytes(max(0, size - len(head)))


def serve_round(out, qemu, dst, src, rnd, count, rate, size):
    """Send one round; return (frames that left, QEMU socket drops,
    sendto() failures)."""
    drops0 = udp_drops(qemu)
    sent = errors = 0
    base = frame(dst, src, DATA, rnd, 0, 0, 0, size)
    start = time.monotonic()
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            data = bytearray(base)
            struct.pack_into("!I", data, HEADER.size + 12, sent)
            try:
                out.sendto(data, (LOOPBACK, qemu))
            except OSError:
                errors += 1
            sent += 1
        time.sleep(0.001)
    time.sleep(0.5)
    return sent - errors, max(0, udp_drops(qemu) - drops0), errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("listen", type=int)
    ap.add_argument("qemu", type=int)
    ap.add_argument("log")
    ap.add_argument("--idle", type=float, default=600)
    ap.add_argument("--max-rate", type=int, default=20000)
    ap.add_argument("--max-count", type=int, default=1000000)
    ap.add_argument("--stop-file")
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, args.listen))
    sock.settimeout(1)
    mac = bytes.fromhex("525400ff0001")
    done = {}
    last = time.monotonic()
    with open(args.log, "a") as log:
        while time.monotonic() - last < args.idle:
            if args.stop_file and os.path.exists(args.stop_file):
                break
            try:
                pkt, peer = sock.recvfrom(65536)
            except socket.timeout:
                continue
            if peer[0] != LOOPBACK or len(pkt) < HEADER.size + FRAME.size:
                continue
            _, src, etype = HEADER.unpack_from(pkt)
            magic, kind, rnd, count, rate, size = FRAME.unpack_from(pkt, HEADER.size)
            if etype != ETHERTYPE or magic != MAGIC or kind != REQ:
                continue
            last = time.monotonic()
            if rnd not in done:
                count = min(count, args.max_count)
                rate = max(1, min(rate, args.max_rate))
                size = max(HEADER.size + FRAME.size, min(size, 9000))
                done[rnd] = serve_round(sock, args.qemu, src, mac, rnd,
                                        count, rate, size)
                log.write("round=%d count=%d rate=%d size=%d sent=%d host_drops=%d send_errors=%d\n"
                          % ((rnd, count, rate, size) + done[rnd]))
                log.flush()
            sent, drops, _ = done[rnd]
            for _ in range(5):
                sock.sendto(frame(src, mac, END, rnd, sent, drops),
                            (LOOPBACK, args.qemu))
                time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
