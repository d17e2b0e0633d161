#!/usr/bin/env python3
"""Goldens for the checkpoint importer's tests (Tests/CheckpointsTests/Fixtures/goldens.json), made with the
official loaders so the Swift reader is checked against what PyTorch reads:

  PYTHONPATH=<NVlabs/eg3d>/eg3d python3 tools/make_checkpoint_goldens.py FIXTURES_DIR OUT.json

- tensors: for each checkpoint, SHA-256 of every tensor's float32 little-endian bytes under its state-dict
  name (EG3D: legacy.load_network_pkl(f)['G_ema'].state_dict(); e4e / PREIM3D: torch.load(map_location='cpu'),
  the 'encoder.' entries and latent_avg).
- randn123: numpy RandomState(123).randn(10000, 512): the first 16 and the last 4 values.
- dtypes: dtypes-zip.pt / dtypes-legacy.pt (written here, both torch.save formats): a state dict of float16,
  bfloat16, float64, int64 tensors, a transposed view and an offset view sharing one storage; their values
  as float32 (what the importer converts them to).
- preim3d_latent_avg: PREIM3D's latent average (models/psp.py __load_latent_avg, mybabyyh/Preim3D) of
  eg3d-nrr128.pkl's G_ema: 10000 z of RandomState(123), camera LookAtPoseSampler.sample(3.14/2, 3.14/2,
  avg_camera_pivot, radius avg_camera_radius), focal 4.2647, psi 0.7, cutoff 14, mean over samples.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch


def digest(t):
    return hashlib.sha256(t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()).hexdigest()


def main(fixtures, out):
    import dnnlib
    import legacy
    from camera_utils import LookAtPoseSampler
    torch.set_num_threads(2)
    result = {"tensors": {}}
    for name in ["eg3d-nrr128.pkl", "eg3d-nrr64.pkl"]:
        with dnnlib.util.open_url(os.path.join(fixtures, name)) as f:
            G = legacy.load_network_pkl(f)["G_ema"]
        result["tensors"][name] = {k: digest(v) for k, v in G.state_dict().items()}
    for name in ["e4e-zip.pt", "e4e-legacy.pt", "preim3d-style.pt"]:
        ckpt = torch.load(os.path.join(fixtures, name), map_location="cpu")
        d = {k[len("encoder."):]: digest(v) for k, v in ckpt["state_dict"].items() if k.startswith("encoder.")}
        d["<checkpoint latent_avg>"] = digest(ckpt["latent_avg"].reshape(-1, ckpt["latent_avg"].shape[-1]))
        result["tensors"][name] = d

    torch.manual_seed(7)
    base = torch.randn(4, 5)
    d = {"h": torch.randn(2, 3).half(), "b": torch.randn(3).bfloat16(), "f64": torch.randn(2, 2).double(),
         "i": torch.tensor([3, -2, 7]), "t": base.t(), "o": base.view(-1)[6:10], "s": torch.tensor(1.5)}
    for name, zipped in (("dtypes-zip.pt", True), ("dtypes-legacy.pt", False)):
        torch.save(d, os.path.join(os.path.dirname(out), name), _use_new_zipfile_serialization=zipped)
    result["dtypes"] = {k: {"shape": list(v.shape), "values": [float(x) for x in v.float().reshape(-1)]} for k, v in d.items()}

    z = np.random.RandomState(123).randn(10000, 512)
    result["randn123"] = {"first16": [float(x) for x in z.reshape(-1)[:16]], "last4": [float(x) for x in z.reshape(-1)[-4:]]}

    with dnnlib.util.open_url(os.path.join(fixtures, "eg3d-nrr128.pkl")) as f:
        G = legacy.load_network_pkl(f)["G_ema"].eval()
    z_samples = np.random.RandomState(123).randn(10000, G.z_dim)
    pivot = torch.tensor(G.rendering_kwargs["avg_camera_pivot"])
    pose = LookAtPoseSampler.sample(3.14 / 2, 3.14 / 2, pivot, radius=G.rendering_kwargs["avg_camera_radius"])
    focal = 4.2647
    intrinsics = torch.tensor([[focal, 0, 0.5], [0, focal, 0.5], [0, 0, 1]])
    c = torch.cat([pose.reshape(-1, 16), intrinsics.reshape(-1, 9)], 1).repeat(len(z_samples), 1)
    with torch.no_grad():
        w = G.mapping(z=torch.from_numpy(z_samples), c=c, truncation_psi=0.7, truncation_cutoff=14)
    avg = w.mean(0, keepdim=True)
    result["preim3d_latent_avg"] = {"shape": list(avg.shape), "values": [float(x) for x in avg.reshape(-1)]}
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print("wrote", out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
