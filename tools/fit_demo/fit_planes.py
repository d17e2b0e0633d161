"""Stage 1 of the demo generator fit: the last backbone block's features are free maps X [C, R, R] (what its conv1 will
have to produce), the tri-planes are its ToRGB of X — W_t·diag(style(w))·X, affine in w exactly as EG3D's ToRGB — and
the decoder reads them. Fitted directly to the procedural head field (head_field.py) at 3D points, which is fast because
no conv stack is in the loop; stage 2 (fit_backbone.py) then trains the conv stack to produce X.
  python3 fit_planes.py --work /tmp/fit --iters 3000"""
import argparse
import math
import os
import time

import torch

import demo_family as D
import eg3d_torch as E
import head_field as H
from fit_generator import field_losses, random_p, sample_points


def planes_of(S, ws):
    """ToRGB of the free features X for a batch of w [B, w_dim] → [B, 3·C_plane, R, R]."""
    p = "backbone.synthesis.b%d.torgb" % D.RES
    wt = S[p + ".weight"][:, :, 0, 0]
    st = E.fc(S, p + ".affine", ws) / math.sqrt(wt.shape[1])
    y = torch.einsum("oc,bc,chw->bohw", wt, st, S["X"])
    return y + S[p + ".bias"][None, :, None, None]


def losses(S, p, pts, style):
    B = p.shape[0]
    with torch.no_grad():
        sdf, col = H.field(pts.reshape(-1, 3), p.repeat_interleave(pts.shape[1], 0), style)
        sdf, col = sdf.reshape(B, -1), col.reshape(B, -1, 3)
    w_avg, AS = D.w_layout()
    planes = planes_of(S, D.w_of(p, w_avg, AS))
    feat = E.sample_planes(planes.view(B, 3, D.PLANE_C // 3, D.RES, D.RES), pts * 2)
    sig, rgb = E.decoder(S, feat)
    return field_losses(sig, rgb, sdf, col)


def init_stage(seed=3):
    P = D.init_params()
    g = torch.Generator().manual_seed(seed)
    p = "backbone.synthesis.b%d" % D.RES
    C = P[p + ".conv1.weight"].shape[0]
    S = {k: P[k].clone() for k in P if k.startswith("decoder") or k.startswith(p + ".torgb")}
    S["X"] = torch.randn(C, D.RES, D.RES, generator=g) * 0.5
    return S


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--points", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    ck = os.path.join(a.work, "planes.pt")
    if os.path.exists(ck):
        st = torch.load(ck, weights_only=False)
        S, start = st["S"], st["iter"]
    else:
        S, start = init_stage(), 0
    keys = list(S)
    for k in keys:
        S[k].requires_grad_()
    opt = torch.optim.Adam([{"params": [S["X"]], "scale": 3.0},
                            {"params": [S[k] for k in keys if k != "X"], "scale": 1.0}], lr=a.lr, betas=(0.9, 0.99))
    if os.path.exists(ck) and "opt" in torch.load(ck, weights_only=False):
        opt.load_state_dict(torch.load(ck, weights_only=False)["opt"])
    g = torch.Generator().manual_seed(99 + start)
    t0 = time.time()
    for it in range(start, a.iters):
        lr = a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(it / a.iters * math.pi)))
        for pg in opt.param_groups:
            pg["lr"] = lr * pg["scale"]
        p = random_p(a.batch, g)
        pts = torch.stack([sample_points(p[i:i + 1], a.points, "source", g) for i in range(a.batch)])
        ld, lc, lf = losses(S, p, pts, "source")
        loss = ld + 10 * lc + 0.2 * lf
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 50 == 0:
            print(f"{it} loss {loss.item():.4f} dens {ld.item():.4f} col {lc.item():.4f} {time.time() - t0:.0f}s", flush=True)
        if (it + 1) % 200 == 0 or it + 1 == a.iters:
            torch.save({"S": {k: v.detach() for k, v in S.items()}, "iter": it + 1, "opt": opt.state_dict()}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)


if __name__ == "__main__":
    main()
