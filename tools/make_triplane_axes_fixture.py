#!/usr/bin/env python3
"""Makes Tests/CheckpointsTests/Fixtures/eg3d-nrr128-corrected-axes.io.safetensors: the official EG3D forward of
eg3d-nrr128.pkl with its renderer's `plane_axes` changed to the corrected projection of NVlabs/eg3d#67 (XY, XZ, ZY;
EG3D as released reads its third plane at ZX), as a model trained after the fix (LPFF's) records it.

ImportanceRenderer keeps generate_planes()' matrices as a plain tensor attribute, so they travel in the pickle (once
for G, once for G_ema) and the official sample_from_planes uses the pickled values. The corrected pickle is made by
swapping those 27 floats in place (`corrected_pickle`); GeneratorImportTests makes the same pickle the same way and
compares its import's render with this file. The forward is reference.py's (fixtures in ../shared), unchanged.

  PYTHONPATH=<NVlabs/eg3d>/eg3d python3 tools/make_triplane_axes_fixture.py
Requirements: torch (CPU), numpy; the official EG3D source on PYTHONPATH; ../shared/fixtures/checkpoints."""
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "fixtures", "checkpoints")
sys.path.insert(0, SHARED)
import reference  # noqa: E402  (../shared/fixtures/checkpoints/reference.py)
import stio  # noqa: E402

XY, XZ = [1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 0, 0, 0, 0, 1, 0, 1, 0]
ORIGINAL = np.array(XY + XZ + [0, 0, 1, 1, 0, 0, 0, 1, 0], np.float32).tobytes()
CORRECTED = np.array(XY + XZ + [0, 0, 1, 0, 1, 0, 1, 0, 0], np.float32).tobytes()


def corrected_pickle(raw):
    assert raw.count(ORIGINAL) == 2, "expected the released plane_axes twice (G and G_ema)"
    return raw.replace(ORIGINAL, CORRECTED)


def main():
    import torch
    src = os.path.join(ROOT, "Tests", "CheckpointsTests", "Fixtures", "eg3d-nrr128.pkl")
    with open(src, "rb") as f:
        patched = corrected_pickle(f.read())
    with tempfile.TemporaryDirectory() as tmp:
        pkl = os.path.join(tmp, "eg3d-nrr128-corrected-axes.pkl")
        with open(pkl, "wb") as f:
            f.write(patched)
        import legacy
        with open(pkl, "rb") as f:
            G = legacy.load_network_pkl(f)["G_ema"]
        axes = G.renderer.plane_axes
        assert axes[2].tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]], axes
        tensors, meta = reference.eg3d_forward(pkl, threads=2)
    keep = {k: tensors[k] for k in ("z", "c_mapping", "c_render", "ws", "image_raw", "image_depth")}
    meta = {k: str(v) for k, v in meta.items()}
    meta["format"] = "EG3D G_ema forward of eg3d-nrr128.pkl with renderer.plane_axes = corrected (NVlabs/eg3d#67)"
    meta["plane_axes"] = "XY, XZ, ZY: generate_planes()' third matrix [[0,0,1],[0,1,0],[1,0,0]]"
    out = os.path.join(ROOT, "Tests", "CheckpointsTests", "Fixtures", "eg3d-nrr128-corrected-axes.io.safetensors")
    stio.save(out, keep, meta)
    original = stio.load(os.path.join(ROOT, "Tests", "CheckpointsTests", "Fixtures", "eg3d-nrr128.io.safetensors"))
    print("wrote", out, "| image_raw max |corrected - released|:", float(np.abs(keep["image_raw"] - original["image_raw"]).max()),
          "| ws equal:", bool((keep["ws"] == original["ws"]).all()), "| torch", torch.__version__)


if __name__ == "__main__":
    main()
