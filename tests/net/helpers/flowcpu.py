#!/usr/bin/python3
"""flowcpu.py: on which CPU the stack received each of N UDP flows.

  flowcpu.py recv LOCAL PEER PORT N READY
        flow i is port PORT+i at LOCAL and at PEER: touch READY, wait
        (60 s at most) for a datagram of each flow, then print each
        flow's CPU (SO_INCOMING_CPU), one a line
  flowcpu.py send LOCAL PEER PORT N
        one datagram on each flow, each from its own connected socket,
        so that each flow has its own transmit hash (a tunnel that keeps
        it spreads the flows over a multiqueue underlay's queues)

The CPU a socket reports is the one that ran its receive path: with RPS on
the receiving device, the one that the flow's hash chose. UDP records it
only on connected sockets, hence a fixed port pair per flow.
"""
import select
import socket
import sys
import time

SO_INCOMING_CPU = getattr(socket, "SO_INCOMING_CPU", 49)


def flows(local, peer, port, n):
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((local, port + i))
        s.connect((peer, port + i))
        socks.append(s)
    return socks


def recv(socks, ready):
    n = len(socks)
    open(ready, "w").close()
    cpus = {}
    end = time.monotonic() + 60
    while len(cpus) < n and time.monotonic() < end:
        waiting = [s for s in socks if s not in cpus]
        for s in select.select(waiting, [], [], 0.5)[0]:
            s.recv(2048)
            cpus[s] = s.getsockopt(socket.SOL_SOCKET, SO_INCOMING_CPU)
    if len(cpus) < n:
        sys.exit("flowcpu: %d of %d flows arrived" % (len(cpus), n))
    for s in socks:
        print(cpus[s])


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "recv":
        local, peer, port, n, ready = sys.argv[2:]
        recv(flows(local, peer, int(port), int(n)), ready)
    elif len(sys.argv) == 6 and sys.argv[1] == "send":
        local, peer, port, n = sys.argv[2:]
        for i, s in enumerate(flows(local, peer, int(port), int(n))):
            s.send(b"flow %d" % i)
    else:
        sys.exit(__doc__.strip())


main()
