#!/usr/bin/env python3
"""Small fuzz seeds with the structure of real checkpoints (standard library only, no torch):
  python3 tools/make_structure_seeds.py Tests/CheckpointsTests/Fixtures Fuzz/corpus
The EG3D network pickle the official code wrote (Fixtures/eg3d-nrr128.pkl, 7.8 MB) keeps every module,
EasyDict, persistent-object record and memo reference, but each embedded storage blob (a legacy torch.save
file) is cut to one element, so the seed is a few hundred KB and the fuzzer's mutations reach the EG3D
structure instead of spending their time in storage bytes (sys_info is cut to little_endian, and the
modules' source text, which the importer never reads, to a placeholder). The tiny torch.save fixtures (dtypes-*.pt) are
copied as they are."""
import io
import os
import pickletools
import shutil
import struct
import sys

LEGACY = b"\x80\x02\x8a\x0al\xfc\x9c"


def pickle_end(b, start):
    f = io.BytesIO(b)
    f.seek(start)
    for op, _, pos in pickletools.genops(f):
        if op.name == "STOP":
            return pos + 1
    raise ValueError("no STOP")


def shrink_blob(blob):
    """A legacy file's storages cut to one element: the declared numel in the object pickle and each
    storage's count and bytes."""
    ends, p = [], 0
    for _ in range(5):
        p = pickle_end(blob, p)
        ends.append(p)
    obj = blob[ends[2]:ends[3]]
    out, seen_cpu = bytearray(), False
    last = 0
    f = io.BytesIO(obj)
    for op, arg, pos in pickletools.genops(f):
        if op.name in ("BINUNICODE", "SHORT_BINUNICODE") and arg in ("cpu", "cuda:0", "cuda"):
            seen_cpu = True
            continue
        if seen_cpu and op.name in ("BININT", "BININT1", "BININT2", "LONG1"):
            nxt = f.tell()
            out += obj[last:pos] + b"K\x01"
            last = nxt
            seen_cpu = False
    out += obj[last:]
    rest = blob[ends[4]:]
    count = struct.unpack("<q", rest[:8])[0]
    size = (len(rest) - 8) // max(count, 1)
    # sys_info cut to the one key the reader checks: {'little_endian': True}.
    info = b"\x80\x02}X\x0d\x00\x00\x00little_endian\x88s."
    return blob[:ends[1]] + info + bytes(out) + blob[ends[3]:ends[4]] + struct.pack("<q", 1) + rest[8:8 + size]


def shrink_pickle(b):
    out, last = bytearray(), 0
    f = io.BytesIO(b)
    for op, arg, pos in pickletools.genops(f):
        if op.name in ("BINBYTES", "BINBYTES8", "SHORT_BINBYTES") and arg.startswith(LEGACY):
            small = shrink_blob(arg)
            out += b[last:pos] + b"B" + struct.pack("<I", len(small)) + small
            last = f.tell()
        elif op.name in ("BINUNICODE", "BINUNICODE8") and len(arg) > 256:
            # The persistent modules' Python source (module_src), which the importer never reads.
            out += b[last:pos] + b"\x8c\x03src"
            last = f.tell()
    out += b[last:]
    return bytes(out)


def main(fixtures, corpus):
    with open(os.path.join(fixtures, "eg3d-nrr128.pkl"), "rb") as f:
        small = shrink_pickle(f.read())
    os.makedirs(os.path.join(corpus, "FuzzUnpickler"), exist_ok=True)
    # FuzzUnpickler adds PROTO 2 itself.
    with open(os.path.join(corpus, "FuzzUnpickler", "eg3d-structure"), "wb") as f:
        f.write(small[2:])
    for name, target in (("dtypes-zip.pt", "FuzzTorchZip"), ("dtypes-legacy.pt", "FuzzTorchLegacy")):
        shutil.copy(os.path.join(fixtures, name), os.path.join(corpus, target, name.replace(".pt", "")))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
