"""Minimal safetensors read/write with numpy (the format: 8-byte header length, JSON header, raw data)."""
import json
import struct

import numpy as np

_DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
_RDT = {np.dtype(v): k for k, v in _DT.items()}


def load(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(b[base + s:base + e], dtype=_DT[v["dtype"]]).reshape(v["shape"]).copy()
    return out


def save(tensors, path, metadata=None):
    header = {}
    blobs = []
    off = 0
    for k in sorted(tensors):
        a = np.array(tensors[k], order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        raw = a.tobytes()
        header[k] = {"dtype": _RDT[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)
