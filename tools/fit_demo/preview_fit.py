"""Renders a fitted generator checkpoint (torch, the demo renderer settings) for a few heads and views into one PNG."""
import sys

import numpy as np
import torch

import demo_family as D
import eg3d_torch as E
import head_field as H


def render(P, p, yaw, pitch=0.0, sr=True, pivot=(0, 0, 0.2)):
    w_avg, AS = D.w_layout()
    ws = D.w_of(torch.tensor([p], dtype=torch.float32), w_avg, AS)[:, None].repeat(1, E.num_ws(P), 1)
    c = torch.from_numpy(E.camera(yaw, pitch, pivot=pivot))
    with torch.no_grad():
        out = E.generate(P, ws, c, D.RENDER, 64, with_sr=sr)
    img = out["image"] if sr else out["image_raw"]
    return ((img[0].permute(1, 2, 0).numpy() * 127.5 + 128).clip(0, 255)).astype(np.uint8)


if __name__ == "__main__":
    from PIL import Image
    torch.set_num_threads(1)
    P = torch.load(sys.argv[1], weights_only=False)["P"]
    z = [0] * H.K
    views = [(z, 0), ([1.3, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0), ([0, 1.5, 1, 1, 1.2, 0, 0, 0, 0, 0], 0.35),
             ([0, 0, 0, 0, 0, 1, 1, 1, 1, 1.2], -0.35), (z, 3.14)]
    Image.fromarray(np.concatenate([render(P, p, y, sr=False) for p, y in views], 1)).resize((5 * 128, 128)).save(sys.argv[2])
