"""Fits the demo e4e encoder: aligned real face crops → W codes w_avg + S·A·p̂, p̂ measured from each frame's 68
landmarks and crop colours (face_params.py). The crops come from `avatarize faces CLIP --crops C.mp4 --crop-size 256
--json C.json` (clips are not committed). Horizontal flips (left/right blink swapped) double the data.
  python3 fit_encoder.py --work /tmp/fit --data /tmp/crops/a /tmp/crops/b --iters 800"""
import argparse
import json
import os
import time

import cv2
import numpy as np
import torch

import demo_family as D
import e4e_torch as E4
import face_params as FP
import head_field as H

WIDTHS = [4, 8, 16, 32]


def init_params(n_styles, w_dim, g):
    rn = lambda *s: torch.randn(*s, generator=g)
    P = {}

    def conv(name, o, i, k):
        P[name] = rn(o, i, k, k) * (2 / (i * k * k)) ** 0.5

    def bnorm(p, c, w=1.0):
        P[p + ".weight"] = torch.full((c,), w)
        P[p + ".bias"] = torch.zeros(c)
        P[p + ".running_mean"] = torch.zeros(c)
        P[p + ".running_var"] = torch.ones(c)

    conv("input_layer.0.weight", 4, 3, 3)
    bnorm("input_layer.1", 4)
    P["input_layer.2.weight"] = torch.full((4,), 0.25)
    i, cin = 0, 4
    for s, n in enumerate(E4.UNITS):
        d = WIDTHS[s]
        for j in range(n):
            p = f"body.{i}"
            if cin != d:
                conv(p + ".shortcut_layer.0.weight", d, cin, 1)
                bnorm(p + ".shortcut_layer.1", d)
            bnorm(p + ".res_layer.0", cin)
            conv(p + ".res_layer.1.weight", d, cin, 3)
            P[p + ".res_layer.2.weight"] = torch.full((d,), 0.25)
            conv(p + ".res_layer.3.weight", d, d, 3)
            bnorm(p + ".res_layer.4", d, 0.2)  # residual branches start small
            h = max(1, d // 8)
            conv(p + ".res_layer.5.fc1.weight", h, d, 1)
            conv(p + ".res_layer.5.fc2.weight", d, h, 1)
            cin = d
            i += 1
    for k in range(n_styles):
        spatial = 16 if k < 3 else (32 if k < 7 else 64)
        for c in range(int(np.log2(spatial))):
            conv(f"styles.{k}.convs.{2 * c}.weight", w_dim, w_dim, 3)
            P[f"styles.{k}.convs.{2 * c}.bias"] = torch.zeros(w_dim)
        P[f"styles.{k}.linear.weight"] = rn(w_dim, w_dim) * (1.0 if k == 0 else 0.01)
        P[f"styles.{k}.linear.bias"] = torch.zeros(w_dim)
    conv("latlayer1.weight", w_dim, WIDTHS[2], 1)
    P["latlayer1.bias"] = torch.zeros(w_dim)
    conv("latlayer2.weight", w_dim, WIDTHS[1], 1)
    P["latlayer2.bias"] = torch.zeros(w_dim)
    return P


def load_clip(stem):
    d = json.load(open(stem + ".json"))
    L = np.array([f["landmarks"] for f in d["track"]], np.float32)
    cap = cv2.VideoCapture(stem + ".mp4")
    frames = []
    while True:
        ok, im = cap.read()
        if not ok:
            break
        frames.append(im[:, :, ::-1])
    n = min(len(frames), len(L))
    crops = np.stack(frames[:n])
    return crops, FP.params(FP.raw_measures(L[:n], crops))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", nargs="+", required=True, help="stems: STEM.mp4 (256² crops) + STEM.json (faces track)")
    ap.add_argument("--iters", type=int, default=800)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    crops, ps = [], []
    for s in a.data:
        c, p = load_clip(s)
        crops.append(c)
        ps.append(p)
        print(s, len(c), "frames; p̂ mean", p.mean(0).round(2), flush=True)
    crops = np.concatenate(crops)
    ps = np.concatenate(ps)
    # Flipped copies: the person's left and right eyes swap.
    flip = ps.copy()
    flip[:, [2, 3]] = ps[:, [3, 2]]
    X = torch.from_numpy(np.concatenate([crops, crops[:, :, ::-1]])).permute(0, 3, 1, 2).contiguous()
    Y = torch.from_numpy(np.concatenate([ps, flip]))
    w_avg, AS = D.w_layout()
    ck = os.path.join(a.work, "encoder.pt")
    g = torch.Generator().manual_seed(5)
    start = 0
    if os.path.exists(ck):
        st = torch.load(ck)
        P, start = st["P"], st["iter"]
    else:
        P = init_params(10, D.W_DIM, g)
        P["latent_avg"] = w_avg[None].repeat(10, 1)
    train = [k for k in P if not k.endswith(("running_mean", "running_var")) and k != "latent_avg"]
    opt = torch.optim.Adam([P[k].requires_grad_() for k in train], lr=a.lr)
    if os.path.exists(ck) and "opt" in torch.load(ck):
        opt.load_state_dict(torch.load(ck)["opt"])
    wexp = torch.tensor([3, 1.5, 2, 2, 1.5, 1, 1, 1, 1, 1], dtype=torch.float32)
    t0 = time.time()
    for it in range(start, a.iters):
        lr = a.lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * it / a.iters)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        idx = torch.randint(0, len(X), (a.batch,), generator=g)
        img = X[idx].float() / 127.5 - 1
        # Mild brightness / contrast jitter and a shift of a few pixels (alignment is never exact).
        img = img * (1 + 0.15 * (torch.rand(a.batch, 1, 1, 1, generator=g) - 0.5)) + 0.15 * (torch.rand(a.batch, 3, 1, 1, generator=g) - 0.5)
        dx, dy = torch.randint(-4, 5, (2,), generator=g).tolist()
        img = torch.roll(img, (dy, dx), (2, 3))
        _, codes = E4.encode(P, img)
        off = codes - w_avg
        p_pred = off @ AS / (D.S ** 2)
        resid = off - p_pred @ AS.t()
        loss = ((p_pred - Y[idx][:, None]).square() * wexp).mean() + resid.square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 20 == 0:
            print(f"{it} loss {loss.item():.4f} lr {lr:.5f} {time.time() - t0:.0f}s", flush=True)
        if (it + 1) % 100 == 0 or it + 1 == a.iters:
            torch.save({"P": {k: v.detach() for k, v in P.items()}, "iter": it + 1, "opt": opt.state_dict()}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)


if __name__ == "__main__":
    main()
