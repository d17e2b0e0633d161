"""Fits the demo e4e encoder: aligned real face crops → W codes w_avg + S·A·p̂, p̂ measured from each frame's 68
landmarks and crop colours (face_params.py). The crops come from `avatarize faces CLIP --crops C.mp4 --crop-size 256
--json C.json` (clips are not committed). Horizontal flips (left/right blink swapped) double the data.
  python3 fit_encoder.py --work /tmp/fit --data /tmp/crops/a /tmp/crops/b --iters 1500
The shipped encoder: crops of samples/talking-head.mp4 and ../shared/media/talking-square-512.mp4 and
talking-wide-1280x720.mp4 (samples/turning-head.mp4 is held out: DemoSemanticsTests measures on it); 350 iterations
of an earlier fit (no identity medians, delta regularisation or weights), continued here to 1500 (a run resumes from
WORK/encoder.pt)."""
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
IDENTITY = [H.PARAMS.index(k) for k in ("head_width", "jaw", "nose", "skin", "hair")]


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


def to_crop(L, quad, size):
    """Source-frame landmarks → aligned-crop pixels (FFHQ quad corners: top-left, bottom-left, bottom-right, top-right)."""
    q = np.array(quad["corners"], np.float64)
    A = np.linalg.solve(np.array([[q[0][0], q[0][1], 1], [q[1][0], q[1][1], 1], [q[3][0], q[3][1], 1]]),
                        np.array([[0, 0], [0, size], [size, 0]], np.float64))
    return L @ A[:2] + A[2]


def jaw_drop(img, Lc, amount):
    """samples/make_turning_sample.py's mouth opening on an aligned crop: everything below the lips (within the
    jaw) pulled down, the gap dark. Returns the picture and the moved landmarks."""
    from scipy import ndimage
    size = img.shape[0]
    lip_y = (Lc[62, 1] + Lc[66, 1]) / 2
    mx = (Lc[48, 0] + Lc[54, 0]) / 2
    half = (Lc[54, 0] - Lc[48, 0]) / 2 * 1.1
    chin = Lc[8, 1]
    depth = 14.0 / 53.0 * (Lc[54, 0] - Lc[48, 0]) * amount
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    across = np.clip(1 - ((x - mx) / (half * 1.6)) ** 2, 0, 1)
    down = np.clip(1 - (y - lip_y) / (chin + 0.5 * (chin - lip_y) - lip_y), 0, 1) * (y >= lip_y)
    shift = depth * across * down
    sy = y - shift
    out = np.stack([ndimage.map_coordinates(img[..., c].astype(np.float32), [sy, x], order=1, mode="nearest") for c in range(3)], -1)
    gap = (y >= lip_y) & (sy < lip_y) & (np.abs(x - mx) < half * (1 - 0.5 * ((y - lip_y) / max(depth, 1)) ** 2))
    out[gap] = (45, 12, 18)
    L2 = Lc.copy()
    for i in range(68):
        if Lc[i, 1] >= lip_y and i >= 5:
            a = np.clip(1 - ((Lc[i, 0] - mx) / (half * 1.6)) ** 2, 0, 1)
            dn = np.clip(1 - (Lc[i, 1] - lip_y) / (chin + 0.5 * (chin - lip_y) - lip_y), 0, 1)
            L2[i, 1] += depth * a * dn
    return np.clip(out, 0, 255).astype(np.uint8), L2


def load_clip(stem, with_crop_landmarks=False):
    d = json.load(open(stem + ".json"))
    L = np.array([f["landmarks"] for f in d["track"]], np.float32)
    Lc = np.stack([to_crop(np.array(f["landmarks"], np.float64), f["quad"], 256) for f in d["track"]])
    cap = cv2.VideoCapture(stem + ".mp4")
    frames = []
    while True:
        ok, im = cap.read()
        if not ok:
            break
        frames.append(im[:, :, ::-1])
    n = min(len(frames), len(L))
    crops = np.stack(frames[:n])
    p = FP.params(FP.raw_measures(L[:n], crops))
    # Identity (head width, jaw, nose, skin, hair) does not change within a clip, but its per-frame measures
    # swing with the head's pose and the light on the cheeks; the clip's median is the target, so that the
    # encoder keeps them still (the skin colour moves the whole face's brightness, mouth included).
    p[:, IDENTITY] = np.median(p[:, IDENTITY], 0)
    return (crops, p, Lc[:n]) if with_crop_landmarks else (crops, p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", nargs="+", required=True, help="stems: STEM.mp4 (256² crops) + STEM.json (faces track)")
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default="4,1.5,2,2,1.5,1,1,1,3,1",
                    help="loss weight of each head parameter (head_field.PARAMS order)")
    ap.add_argument("--resid-weight", type=float, default=4.0,
                    help="weight of the code's part outside the head parameters' directions (the generator never saw it)")
    ap.add_argument("--delta-reg", type=float, default=1.0,
                    help="weight of e4e's delta regularisation (each style's code minus the first)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    crops, ps, lms = [], [], []
    for s in a.data:
        c, p, lc = load_clip(s, with_crop_landmarks=True)
        crops.append(c)
        ps.append(p)
        lms.append(lc)
        print(s, len(c), "frames; p̂ mean", p.mean(0).round(2), flush=True)
    crops = np.concatenate(crops)
    ps = np.concatenate(ps)
    lms = np.concatenate(lms)
    # Jaw-drop copies (the mouth opened by a warp, p̂ measured again on the moved landmarks), so that the mouth is
    # read from the mouth and not from who is speaking: most clips' speakers rarely open wide.
    rng = np.random.default_rng(11)
    aug_c, aug_p = [], []
    for i in rng.choice(len(crops), size=len(crops) // 2, replace=False):
        amount = rng.uniform(0.2, 1.3)
        img, l2 = jaw_drop(crops[i], lms[i], amount)
        p = ps[i].copy()
        p[0] = FP.params(FP.raw_measures(l2[None]))[0, 0]
        aug_c.append(img)
        aug_p.append(p)
    crops = np.concatenate([crops, np.stack(aug_c)])
    ps = np.concatenate([ps, np.stack(aug_p)])
    print("with", len(aug_c), "jaw-drop copies; mouth p̂ range", ps[:, 0].min().round(2), ps[:, 0].max().round(2), flush=True)
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
        st = torch.load(ck, weights_only=False)
        P, start = st["P"], st["iter"]
    else:
        P = init_params(10, D.W_DIM, g)
        P["latent_avg"] = w_avg[None].repeat(10, 1)
    train = [k for k in P if not k.endswith(("running_mean", "running_var")) and k != "latent_avg"]
    opt = torch.optim.Adam([P[k].requires_grad_() for k in train], lr=a.lr)
    if os.path.exists(ck) and "opt" in torch.load(ck, weights_only=False):
        opt.load_state_dict(torch.load(ck, weights_only=False)["opt"])
    wexp = torch.tensor([float(v) for v in a.weights.split(",")], dtype=torch.float32)
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
        # e4e's delta regularisation (Tov et al. 2021, L_d-reg): every style's code near the first. The demo
        # generator was fitted with one w in all its layers, and a code whose layers disagree renders a mouth
        # that no longer follows p̂ even when their mean does.
        delta = (codes[:, 1:] - codes[:, :1]).square().mean()
        loss = ((p_pred - Y[idx][:, None]).square() * wexp).mean() + a.resid_weight * resid.square().mean() + a.delta_reg * delta
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 20 == 0:
            print(f"{it} loss {loss.item():.4f} delta {delta.item():.4f} lr {lr:.5f} {time.time() - t0:.0f}s", flush=True)
        if (it + 1) % 100 == 0 or it + 1 == a.iters:
            torch.save({"P": {k: v.detach() for k, v in P.items()}, "iter": it + 1, "opt": opt.state_dict()}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)


if __name__ == "__main__":
    main()
