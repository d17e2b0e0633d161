#!/usr/bin/env python3
"""Seed corpora for Fuzz/ (small files in the real formats, written by torch itself):
  python3 tools/make_fuzz_seeds.py Fuzz/corpus
FuzzUnpickler: plain pickles of tensors (storages as legacy blobs, as EG3D pickles hold them), without the
leading PROTO 2 the target adds; FuzzTorchZip / FuzzTorchLegacy: torch.save of small state dicts."""
import collections
import io
import os
import pickle
import sys

import torch


def state(n):
    torch.manual_seed(n)
    d = collections.OrderedDict()
    d["encoder.w"] = torch.randn(2, 3)
    d["encoder.b"] = torch.randn(3).half()
    d["encoder.n"] = torch.tensor(5)
    d["encoder.t"] = torch.randn(3, 2).t()
    return d


def main(out):
    for name in ["FuzzUnpickler", "FuzzTorchZip", "FuzzTorchLegacy"]:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i, obj in enumerate([state(1), {"state_dict": state(2), "latent_avg": torch.randn(2, 2), "opts": {"a": 1, "b": "x"}},
                             {"G_ema": None, "x": [1, 2.5, "s", b"b", (1,), {3}]}]):
        for proto in (2, 4):
            b = pickle.dumps(obj, protocol=proto)
            with open(os.path.join(out, "FuzzUnpickler", f"seed{i}-p{proto}"), "wb") as f:
                f.write(b[2:] if b[:2] == b"\x80\x02" else b)
        if i < 2:
            for legacy, target in ((False, "FuzzTorchZip"), (True, "FuzzTorchLegacy")):
                buf = io.BytesIO()
                torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
                with open(os.path.join(out, target, f"seed{i}"), "wb") as f:
                    f.write(buf.getvalue())


if __name__ == "__main__":
    main(sys.argv[1])
