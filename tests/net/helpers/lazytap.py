#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A packet socket that reads nothing until told to, then saves what it holds.

    lazytap.py IFACE PCAP STOPFILE [--rcvbuf BYTES] [--incoming]

Opens an AF_PACKET socket on IFACE (all protocols, both directions, or with
--incoming only what IFACE receives), creates PCAP.ready and reads nothing
until STOPFILE exists; then it drains what the socket queued into PCAP
(classic pcap, Ethernet) and creates PCAP.done.

tcpdump copies each frame into its ring as soon as it sees it, so what it
saves is what was on the wire at that moment. This socket instead keeps the
packets themselves queued: clones that share their data with the skbs the
stack goes on to process. Whoever writes into such shared data afterwards
(say, a tunnel decrypting received datagrams in place) changes what this
socket later reads, and the capture shows it.
"""
import argparse
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_RCVBUFFORCE = 33
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("iface")
    ap.add_argument("pcap")
    ap.add_argument("stop")
    ap.add_argument("--rcvbuf", type=int, default=8 << 20)
    ap.add_argument("--incoming", action="store_true",
                    help="hold only what IFACE receives, not what it sends")
    args = ap.parse_args()

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, args.rcvbuf)
    if args.incoming:
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.bind((args.iface, 0))
    open(args.pcap + ".ready", "w").close()
    while not os.path.exists(args.stop):
        time.sleep(0.1)

    s.setblocking(False)
    n = 0
    with open(args.pcap, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while True:
            try:
                frame = s.recv(262144)
            except BlockingIOError:
                break
            t = time.time()
            f.write(struct.pack("<IIII", int(t), int(t % 1 * 1e6),
                                len(frame), len(frame)))
            f.write(frame)
            n += 1
    print(f"lazytap: {n} frames held on {args.iface}", file=sys.stderr)
    open(args.pcap + ".done", "w").close()


if __name__ == "__main__":
    main()
