#!/usr/bin/env python3
"""Computes the v5 segment golden vectors of tests/it/segment_golden.rs from the spec.

Independent of the Rust code: CRC24 is the bitwise algorithm of native_protocol_v5.spec 2.1
(init 0x875060, polynomial 0x1974F0B) as the errata in shared/specs/README.md spell it out
(each header byte, low byte first, XORed into bits 16-23, then 8 shift-left rounds that XOR the
polynomial when bit 24 is set). CRC32 is zlib's standard CRC-32, cross-checked against a bitwise
reflected CRC-32 (polynomial 0xEDB88320), fed the seed bytes FA 2D 55 CA first (errata 1).
The LZ4 block is written by hand and checked with the small block decoder below.

Run: python3 crates/cql-proto/tests/vectors/segment_golden.py
"""
import zlib

CRC24_INIT = 0x875060
CRC24_POLY = 0x1974F0B
CRC32_SEED = bytes([0xFA, 0x2D, 0x55, 0xCA])


def crc24(data):
    crc = CRC24_INIT
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= CRC24_POLY
    return crc & 0xFFFFFF


def crc32_bitwise(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def crc32(payload):
    a = zlib.crc32(CRC32_SEED + payload) & 0xFFFFFFFF
    assert a == crc32_bitwise(CRC32_SEED + payload)
    return a


def lz4_block_decode(block):
    out = bytearray()
    i = 0
    while True:
        token = block[i]; i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = block[i]; i += 1; lit += b
                if b != 255:
                    break
        out += block[i:i + lit]; i += lit
        if i == len(block):
            return bytes(out)
        off = block[i] | block[i + 1] << 8; i += 2
        ml = (token & 15) + 4
        if token & 15 == 15:
            while True:
                b = block[i]; i += 1; ml += b
                if b != 255:
                    break
        for _ in range(ml):
            out.append(out[-off])


def uncompressed_segment(payload, self_contained):
    word = len(payload) | (int(self_contained) << 17)
    head = word.to_bytes(3, "little")
    return head + crc24(head).to_bytes(3, "little") + payload + crc32(payload).to_bytes(4, "little")


def lz4_segment(stored, uncompressed_len, self_contained):
    word = len(stored) | (uncompressed_len << 17) | (int(self_contained) << 34)
    low5 = word.to_bytes(5, "little")
    head = (word | crc24(low5) << 40).to_bytes(8, "little")
    return head + stored + crc32(stored).to_bytes(4, "little")


def show(name, b):
    print(f"{name} ({len(b)} bytes):")
    print("  " + " ".join(f"{x:02x}" for x in b))


# A v5 OPTIONS request: version 5, flags 0, stream 1, opcode 0x05, length 0.
OPTIONS = bytes([0x05, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00])
show("crc24(09 00 02)", crc24(bytes([0x09, 0x00, 0x02])).to_bytes(3, "little"))
show("crc32(seed || OPTIONS)", crc32(OPTIONS).to_bytes(4, "little"))
show("uncompressed self-contained OPTIONS", uncompressed_segment(OPTIONS, True))
show("lz4 stored (uncompressed length 0) self-contained OPTIONS", lz4_segment(OPTIONS, 0, True))

# A v5 QUERY-opcode frame (0x07) on stream 2 whose 20-byte body is 'a' * 20: 29 bytes that a
# hand-written LZ4 block of 19 bytes encodes: 10 literals (header + one 'a'), a match of 14 at
# offset 1, then the 5 final literals LZ4 requires.
FRAME_A = bytes([0x05, 0x00, 0x00, 0x02, 0x07, 0x00, 0x00, 0x00, 0x14]) + b"a" * 20
BLOCK = bytes([0xAA]) + FRAME_A[:10] + bytes([0x01, 0x00]) + bytes([0x50]) + b"aaaaa"
assert lz4_block_decode(BLOCK) == FRAME_A
show("lz4 compressed self-contained FRAME_A", lz4_segment(BLOCK, len(FRAME_A), True))
show("lz4 block of FRAME_A", BLOCK)

# The 10-byte frame split across two non-self-contained uncompressed segments of 6 and 4 bytes:
# version 5, stream 3, opcode 0x05 with a 1-byte body 0x2a.
FRAME_B = bytes([0x05, 0x00, 0x00, 0x03, 0x05, 0x00, 0x00, 0x00, 0x01, 0x2A])
show("non-self-contained part 1", uncompressed_segment(FRAME_B[:6], False))
show("non-self-contained part 2", uncompressed_segment(FRAME_B[6:], False))
