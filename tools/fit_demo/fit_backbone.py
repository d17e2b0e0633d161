"""Stage 2 of the demo generator fit: trains the StyleGAN2 conv stack (const, convs, their w-independent styles, noise
maps) so that the last block's conv1 output reproduces stage 1's free features X, the error weighted by how much each
channel reaches the tri-planes. The ToRGB and decoder come from stage 1 unchanged; the earlier blocks' ToRGB are zero
(the skip path carries nothing but the last block). Then fits the mapping network (random z → random heads) and writes
source.pt. The whole family, as shipped:
  python3 fit_planes.py --work /tmp/fit --iters 5000
  python3 fit_backbone.py --work /tmp/fit --iters 12000 --lr 1e-2
  python3 fit_generator.py --work /tmp/fit --style poster --init /tmp/fit/source.pt --iters 1500   # and sketch
  python3 fit_generator.py --work /tmp/fit --style caricature --init /tmp/fit/source.pt --iters 2500 --lr 6e-3
  python3 export_bundles.py --work /tmp/fit   # needs encoder.pt from fit_encoder.py"""
import argparse
import math
import os
import time

import torch

import demo_family as D
import eg3d_torch as E
from fit_generator import fit_mapping


def conv_features(P, n_ws):
    """The last backbone block's conv1 output [1, C, R, R] (conv styles do not depend on w)."""
    ws = torch.zeros(1, n_ws, D.W_DIM)
    x = None
    k = 0
    for p, r in E.backbone_blocks(P):
        if r == 4:
            x = E.layer(P, p + ".conv1", P[p + ".const"][None], ws[:, 0], 1, True, None)
            k += 1
        else:
            x = E.layer(P, p + ".conv0", x, ws[:, k], 2, True, None)
            x = E.layer(P, p + ".conv1", x, ws[:, k + 1], 1, True, None)
            k += 2
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    S = torch.load(os.path.join(a.work, "planes.pt"), weights_only=False)["S"]
    P = D.init_params(seed=5)
    for k, v in S.items():
        if k != "X":
            P[k] = v.clone()
    for p, r in E.backbone_blocks(P):
        if r != D.RES:
            P[p + ".torgb.weight"].zero_()
            P[p + ".torgb.bias"].zero_()
        for c in ("conv0", "conv1"):
            if p + f".{c}.noise_strength" in P:
                P[p + f".{c}.noise_strength"] = torch.tensor(0.3)
                P[p + f".{c}.noise_const"] = torch.zeros_like(P[p + f".{c}.noise_const"])
    X = S["X"]
    # Weight per channel: the size of its ToRGB column times its typical style.
    p = "backbone.synthesis.b%d.torgb" % D.RES
    w_avg, _ = D.w_layout()
    st = E.fc(P, p + ".affine", w_avg[None])[0].abs() / math.sqrt(X.shape[0])
    cw = (P[p + ".weight"][:, :, 0, 0].norm(dim=0) * st)
    cw = (cw / cw.mean())[:, None, None]
    train = [k for k in P if k.startswith("backbone.synthesis") and ".torgb" not in k
             and not k.endswith("resample_filter") and not k.endswith("affine.weight")]
    for k in train:
        P[k] = P[k].detach().requires_grad_()
    opt = torch.optim.Adam([P[k] for k in train], lr=a.lr, betas=(0.9, 0.99))
    n_ws = E.num_ws(P)
    t0 = time.time()
    for it in range(a.iters):
        lr = a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(it / a.iters * math.pi)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        x = conv_features(P, n_ws)[0]
        loss = (cw * (x - X).square()).mean() / X.square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 100 == 0:
            print(f"{it} relative error {loss.item():.5f} {time.time() - t0:.0f}s", flush=True)
    print(f"final relative error {loss.item():.5f}", flush=True)
    P = {k: v.detach() for k, v in P.items()}
    fit_mapping(P, w_avg, D.w_layout()[1])
    stage1 = torch.load(os.path.join(a.work, "planes.pt"), weights_only=False)["iter"]
    torch.save({"P": P, "iter": stage1, "mapped": True}, os.path.join(a.work, "source.pt"))


if __name__ == "__main__":
    main()
