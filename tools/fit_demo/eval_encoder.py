"""Measures an encoder bundle on clips it did not see, at the code level: per frame the head parameters the encoder
reads (the code's offset from w_avg along S·A) against p̂ measured from the crop's 68 landmarks (face_params.py);
prints Pearson r per expression parameter and how often the read eyes close on the landmarks' blinks.
  python3 eval_encoder.py BUNDLE_DIR STEM [STEM ...]   (STEM.mp4 + STEM.json from `avatarize faces --crops --crop-size 256`)
DemoSemanticsTests measures the same on the rendered avatar."""
import os
import sys

import numpy as np
import torch

import demo_family as D
import e4e_torch as E4
import fit_encoder as FE
import st_io

torch.set_num_threads(2)
P = {k: torch.from_numpy(v) for k, v in st_io.load(os.path.join(sys.argv[1], "weights.safetensors")).items()}
w_avg, AS = D.w_layout()
for stem in sys.argv[2:]:
    crops, p = FE.load_clip(stem)
    out = []
    with torch.no_grad():
        for i in range(0, len(crops), 16):
            x = torch.from_numpy(crops[i:i + 16].copy()).permute(0, 3, 1, 2).float() / 127.5 - 1
            _, codes = E4.encode(P, x)
            out.append(((codes.mean(1) - w_avg) @ AS / D.S ** 2).numpy())
    q = np.concatenate(out)
    r = {n: np.corrcoef(p[:, k], q[:, k])[0, 1] for k, n in enumerate(["mouth_open", "smile", "blink_left", "blink_right", "brows"])}
    # Blinks: frames where the landmarks' eyes are closed (both blink p̂ over 0.7, face_params' scale puts a shut
    # eye at 1); the read eyes count as closed over 0.5.
    shut = (p[:, 2] > 0.7) & (p[:, 3] > 0.7)
    read = (q[:, 2] + q[:, 3]) / 2 > 0.5
    print(os.path.basename(stem), " ".join(f"{k} r {v:.2f}" for k, v in r.items()),
          f"| mouth p̂ range {p[:, 0].min():.2f}..{p[:, 0].max():.2f} read {q[:, 0].min():.2f}..{q[:, 0].max():.2f}",
          f"| shut frames {shut.sum()}, read shut on {(read & shut).sum()}, read shut elsewhere {(read & ~shut).sum()}")
