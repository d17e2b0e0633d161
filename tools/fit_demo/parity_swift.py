"""Checks avatarize's Swift generator against this folder's PyTorch port on a bundle: writes IO.safetensors (z, cameras,
ws and the torch outputs) for `avatarize generate --model BUNDLE --inputs IO --output OUT`, which prints
max|a-b|/max|b| per output.  python3 parity_swift.py BUNDLE IO.safetensors"""
import os
import sys

import numpy as np
import torch

import demo_family as D
import eg3d_torch as E
import st_io

bundle, io = sys.argv[1], sys.argv[2]
P = {k: torch.from_numpy(v) for k, v in st_io.load(os.path.join(bundle, "weights.safetensors")).items()}
g = torch.Generator().manual_seed(3)
z = torch.randn(1, D.Z_DIM, generator=g)
cm = torch.from_numpy(E.camera())[None]
cr = torch.from_numpy(E.camera(0.3, -0.1))[None]
with torch.no_grad():
    ws = E.mapping(P, z, cm, E.num_ws(P), psi=0.7, cutoff=14)
    out = E.generate(P, ws, cr[0], D.RENDER, 64)
t = {"z": z, "c_mapping": cm, "c_render": cr, "ws": ws, "feature_image": out["feature_image"], "image_raw": out["image_raw"],
     "image_depth": out["image_depth"], "image": out["image"]}
st_io.save({k: v.numpy() for k, v in t.items()}, io)
