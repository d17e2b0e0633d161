"""Renders the procedural head with the demo renderer settings (64² rays, 16+16 samples) to PNGs for a look."""
import sys

import numpy as np
import torch

import eg3d_torch as E
import head_field as H

torch.set_num_threads(2)
opt = dict(ray_start=2.25, ray_end=3.3, depth_resolution=16, depth_resolution_importance=16, box_warp=1.0)


def render_field(p, yaw, pitch, style="source", res=64):
    c = torch.from_numpy(E.camera(yaw, pitch))
    o, d = E.rays(c[None], res)

    def f(pts):
        sdf, col = H.field(pts, p.expand(len(pts), -1), style)
        return H.raw_density(sdf)[:, None], col

    rgb, depth = E.render(None, None, o[0], d[0], opt, field=f)
    return rgb.t().reshape(3, res, res)


if __name__ == "__main__":
    from PIL import Image
    out = sys.argv[1]
    tiles = []
    for style, p, yaw in [("source", [0] * H.K, 0), ("source", [1.2, 1, 1, 0, 1, 0, 0, 0, 0, 0], 0.4),
                          ("source", [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], -0.4), ("source", [0] * H.K, 3.14),
                          ("caricature", [0] * H.K, 0.3), ("poster", [0.6] + [0] * 9, 0), ("sketch", [0] * H.K, 0)]:
        img = render_field(torch.tensor([p], dtype=torch.float32), yaw, 0.0, style, 128)
        tiles.append(((img.permute(1, 2, 0).numpy() * 127.5 + 128).clip(0, 255)).astype(np.uint8))
    Image.fromarray(np.concatenate(tiles, 1)).save(out)
