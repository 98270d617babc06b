#!/usr/bin/env python3
"""Writes fixtures/hostile/: small files whose headers claim huge images (decompression
bombs), for the tests that check they are refused before decoding.

    python3 tools/make-hostile.py

* gray_10000x10000.png: a valid 8-bit gray PNG of 10000x10000 zeros (about 100 KB; 100 MB
  decoded, 300 MB as RGB).
* cmyk_claims_12000x12000.jpg: a small CMYK JPEG (which libjpeg cannot turn into RGB, so
  the general decoder gets it) whose frame header is patched to claim 12000x12000.
"""
import os
import struct
import subprocess
import zlib

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hostile")


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def gray_png(path, w, h):
    comp = zlib.compressobj(9)
    row = b"\x00" * (w + 1)  # filter byte 0, then w zero pixels
    out = [comp.compress(row) for _ in range(h)]
    out.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(out)) + chunk(b"IEND", b""))


def cmyk_jpeg(path, w, h):
    tmp = path + ".tmp.jpg"
    subprocess.run(["convert", "-size", "16x16", "xc:red", "-colorspace", "CMYK", tmp], check=True)
    data = bytearray(open(tmp, "rb").read())
    os.remove(tmp)
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = struct.pack(">H", h)
    data[sof + 7:sof + 9] = struct.pack(">H", w)
    open(path, "wb").write(data)


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    gray_png(os.path.join(HERE, "gray_10000x10000.png"), 10000, 10000)
    cmyk_jpeg(os.path.join(HERE, "cmyk_claims_12000x12000.jpg"), 12000, 12000)
