"""Builds e4e-style and PREIM3D-style .pt checkpoints from this fixture's weights, for
EncoderParityTests.testConverterScript (run with python3 + torch; see tools/convert_e4e.py).

    python3 make_checkpoints.py weights.safetensors OUT_DIR

Writes OUT_DIR/e4e.pt ({"state_dict": {"encoder.…", "decoder.…"}, "latent_avg", "opts"}, as e4e's
training coach saves), OUT_DIR/preim3d.pt (the same without latent_avg) and OUT_DIR/latent_avg.npy.
"""
import json
import os
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + begin:8 + n + end], dtype="<f4").reshape(info["shape"]).copy()
    return out


def main(src, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    weights = read_safetensors(src)
    latent_avg = weights.pop("latent_avg")
    state = {"encoder." + k: torch.from_numpy(v) for k, v in weights.items()}
    # Another network's tensors, which the converter must drop.
    state["decoder.synthesis.b4.const"] = torch.zeros(2, 4, 4)
    state["decoder.mapping.w_avg"] = torch.zeros(32)
    opts = {"encoder_type": "Encoder4Editing", "stylegan_size": 256, "start_from_latent_avg": True}
    torch.save({"state_dict": state, "latent_avg": torch.from_numpy(latent_avg)[None], "opts": opts},
               os.path.join(out_dir, "e4e.pt"))
    torch.save({"state_dict": state, "opts": opts}, os.path.join(out_dir, "preim3d.pt"))
    np.save(os.path.join(out_dir, "latent_avg.npy"), latent_avg[None])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
