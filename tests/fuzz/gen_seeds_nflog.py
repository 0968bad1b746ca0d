#!/usr/bin/env python3
"""gen_seeds_nflog.py - write the seed corpus of fuzz_nflog.c.

Run once by hand when the input layout changes; the output is
committed:  tests/fuzz/gen_seeds_nflog.py tests/fuzz/corpus/nflog

Each seed is one NFLOG datagram as the kernel builds it (host byte
order for the netlink headers, network order inside the attributes):
single packets of both families with the attributes the agent reads,
a batch with a sequence gap, a broadcast copy, an error message before
a packet, and broken ones (an attribute past the message, a message
past the datagram, a short packet header).
"""
import os
import struct
import sys

NFNL_SUBSYS_ULOG = 4
NFULNL_MSG_PACKET = 0
NLMSG_ERROR = 2
A = dict(PACKET_HDR=1, MARK=2, IFINDEX_INDEV=4, PAYLOAD=9, PREFIX=10,
         SEQ=12, HWTYPE=15, HWHEADER=16, HWLEN=17)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ptb4():
    quote = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0, 0x4000, 64, 6, 0,
                        bytes([203, 0, 113, 10]), bytes([198, 51, 100, 7]))
    quote += struct.pack("!HHI", 443, 40000, 1)
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + quote
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0,
                     bytes([198, 51, 100, 1]), bytes([203, 0, 113, 10]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + icmp


def ptb6():
    src = bytes.fromhex("20010db8000200000000000000000001")
    dst = bytes.fromhex("20010db8000100000000000000000010")
    cli = bytes.fromhex("20010db8000200000000000000000007")
    quote = struct.pack("!IHBB", 0x60000000, 1460, 6, 64) + dst + cli
    quote += struct.pack("!HHI", 443, 40000, 1)
    icmp = struct.pack("!BBHI", 2, 0, 0, 1280) + quote
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    return struct.pack("!IHBB", 0x60000000, len(icmp), 58, 64) + src + dst + icmp


def attr(t, v):
    n = 4 + len(v)
    return struct.pack("=HH", n, t) + v + b"\0" * (-n % 4)


def msg(body, family=2, mtype=NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET,
        extra=0):
    payload = struct.pack("!BBH", family, 0, 33) + body
    return struct.pack("=IHHII", 16 + len(payload) + extra, mtype, 0, 0, 0) + payload


def packet(pkt, seq, v6=False, bcast=False, ifindex=2):
    et = 0x86dd if v6 else 0x0800
    dmac = b"\xff" * 6 if bcast else bytes([2, 0, 0, 0, 0, 2])
    hw = dmac + bytes([2, 0, 0, 0, 0, 1]) + struct.pack("!H", et)
    return msg(attr(A["PACKET_HDR"], struct.pack("!HBx", et, 0)) +
               attr(A["MARK"], struct.pack("!I", 0)) +
               attr(A["IFINDEX_INDEV"], struct.pack("!I", ifindex)) +
               attr(A["HWTYPE"], struct.pack("!H", 1)) +
               attr(A["HWLEN"], struct.pack("!H", len(hw))) +
               attr(A["HWHEADER"], hw) +
               attr(A["PREFIX"], b"pmtud\0") +
               attr(A["SEQ"], struct.pack("!I", seq)) +
               attr(A["PAYLOAD"], pkt), family=10 if v6 else 2)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p4, p6 = ptb4(), ptb6()
    seeds = {
        "v4": packet(p4, 0),
        "v6": packet(p6, 0, v6=True),
        "batch_gap": packet(p4, 1) + packet(p6, 2, v6=True) + packet(p4, 5),
        "broadcast": packet(p4, 0, bcast=True),
        "error_then_packet": struct.pack("=IHHIIi", 20, NLMSG_ERROR, 0, 0, 0, -1)
        + packet(p6, 7, v6=True),
        "bare": msg(attr(A["PAYLOAD"], p4)),
        "attr_past_message": msg(attr(A["PAYLOAD"], p4)[:-8] +
                                 struct.pack("=HH", 200, A["SEQ"])),
        "message_past_datagram": msg(attr(A["PAYLOAD"], p4), extra=64),
        "short_packet_hdr": msg(attr(A["PACKET_HDR"], b"\x08") +
                                attr(A["PAYLOAD"], p4)),
        "other_message": msg(attr(A["PAYLOAD"], p4),
                             mtype=NFNL_SUBSYS_ULOG << 8 | 1) + packet(p4, 3),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
