"""Fits the demo e4e encoder: aligned real face crops → W codes w_avg + S·A·p̂, p̂ measured from each frame's 68
landmarks and crop colours (face_params.py). The crops come from avatarize's own face stage, `avatarize faces CLIP
--crops C.mp4 --crop-size 256 --json C.json` (clips are not committed); a still goes through it as a 3-frame video
(`ffmpeg -loop 1 -i S.jpg -frames:v 3 ...`). Only real pictures: no painted or warped expressions. Every batch is
augmented (flips with left/right blinks swapped, scale/rotation/shift, colour, blur, low resolution, JPEG, noise) and
drawn so that each source and each mouth-opening / eye-closure band is seen about equally, so that the mouth and lids
are read from the mouth and lids of anyone, not from who is speaking.
  python3 fit_encoder.py --work /tmp/fit --data /tmp/crops/square /tmp/crops/wide /tmp/crops/portrait /tmp/stills/s0 ...
Its first step caches the frozen units' features of every (augmented) crop in WORK/features.pt. The shipped encoder
(demo-v6) does not use this script's gradient fit (it learns the fitted speakers, see fit_readout.py) but its cache:
crops of ../shared/media/talking-square-512, talking-wide-1280x720, talking-portrait-576x768 and the stills with
`--init` the demo-v5 encoder (`git show efaf5f1:Sources/Models/DemoModels/encoder/weights.safetensors`) and
`--held-out` talking-laugh-512, then `fit_readout.py --work WORK --init V5` and `export_bundles.py --work WORK
--encoder-only`. RealSpeakerSemanticsTests measures on the held-out clip; eval_encoder.py at the code level."""
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
import st_io

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
    p = FP.params(FP.raw_measures(L[:n], crops))
    # Identity (head width, jaw, nose, skin, hair) does not change within a clip, but its per-frame measures
    # swing with the head's pose and the light on the cheeks; the clip's median is the target, so that the
    # encoder keeps them still (the skin colour moves the whole face's brightness, mouth included).
    p[:, IDENTITY] = np.median(p[:, IDENTITY], 0)
    return crops, p




def augment(img, g):
    """img [N, 3, H, W] in [-1, 1] → the same faces as another camera, light and codec might give them. p̂ is made of
    ratios of landmark distances, so it is unchanged by these similarity warps and photometric changes."""
    n = img.shape[0]
    u = lambda *s: torch.rand(*s, generator=g)
    # Scale ±12 %, rotation ±6°, shift ±8 px: the face stage's alignment jitters by about this much on real video
    # (its quad is smoothed over frames, STIT's σ 1 and 3).
    sc = 1 + 0.24 * (u(n) - 0.5)
    rot = (u(n) - 0.5) * 2 * np.pi / 30
    sh = (u(n, 2) - 0.5) * 2 * 8 / 128
    th = torch.stack([torch.stack([sc * torch.cos(rot), -sc * torch.sin(rot), sh[:, 0]], 1),
                      torch.stack([sc * torch.sin(rot), sc * torch.cos(rot), sh[:, 1]], 1)], 1)
    grid = torch.nn.functional.affine_grid(th, list(img.shape), align_corners=False)
    img = torch.nn.functional.grid_sample(img, grid, padding_mode="border", align_corners=False)
    # Colour: brightness, contrast, per-channel gain (white balance), saturation, sometimes grey.
    grey = img.mean(1, keepdim=True)
    sat = torch.where(u(n, 1, 1, 1) < 0.1, torch.zeros(n, 1, 1, 1), 0.6 + 0.7 * u(n, 1, 1, 1))
    img = grey + (img - grey) * sat
    img = img * (0.7 + 0.6 * u(n, 1, 1, 1)) * (1 + 0.2 * (u(n, 3, 1, 1) - 0.5)) + 0.3 * (u(n, 1, 1, 1) - 0.5)
    out = []
    for i in range(n):
        x = img[i:i + 1]
        r = u(3)
        if r[0] < 0.35:  # defocus / motion softness
            s = 0.4 + 1.4 * float(u(1))
            k = torch.exp(-torch.arange(-4, 5).float() ** 2 / (2 * s * s))
            k = (k / k.sum()).to(x.dtype)
            x = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (4, 4, 0, 0), mode="replicate"), k.view(1, 1, 1, 9).repeat(3, 1, 1, 1), groups=3)
            x = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 0, 4, 4), mode="replicate"), k.view(1, 1, 9, 1).repeat(3, 1, 1, 1), groups=3)
        if r[1] < 0.25:  # a small face in the frame: the crop was upscaled from 64-160 px
            side = int(64 + 96 * float(u(1)))
            x = torch.nn.functional.interpolate(torch.nn.functional.interpolate(x, size=side, mode="area"), size=img.shape[-1], mode="bilinear", align_corners=False)
        if r[2] < 0.4:  # JPEG / video codec blocks at quality 25-90
            a = ((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
            ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, int(25 + 65 * float(u(1)))])
            x = torch.from_numpy(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)).permute(2, 0, 1)[None].float() / 127.5 - 1
        out.append(x)
    img = torch.cat(out)
    img = img + 0.03 * float(u(1)) * torch.randn(img.shape, generator=g)
    return img.clamp(-1, 1)


def sampling_weights(p, source):
    """Each source (clip or still) gets a weight that grows slowly with its length, and within the pool each band of mouth opening and of
    eye closure the same share as far as it has frames: wide mouths and shut eyes are rare in speech, and an encoder
    fitted on the plain frequencies reads every face as half-open mouth, open eyes."""
    w = np.ones(len(p))
    for s in np.unique(source):
        # A source's share grows as the square root of its frames: a 3-frame still is one face, a clip many moments.
        w[source == s] /= np.sqrt((source == s).sum())
    for col in (p[:, 0], (p[:, 2] + p[:, 3]) / 2):
        band = np.digitize(col, [0.15, 0.4, 0.7, 1.0])
        share = np.array([w[band == b].sum() for b in range(5)])
        w = w / np.maximum(share[band], 1e-9) ** 0.5  # square root: balanced, but one rare frame is not drawn endlessly
    return w / w.sum()


FROZEN = 21  # units 0-20 (IR-SE50's first three stages, up to e4e's middle tap c2) are kept


def lower(P, img):
    """The frozen part: input layer and units 0..FROZEN-1 → c2 (e4e_torch.encode's second tap)."""
    x = torch.nn.functional.prelu(E4.bn(P, "input_layer.1", torch.nn.functional.conv2d(img, P["input_layer.0.weight"], padding=1)),
                                  P["input_layer.2.weight"])
    i = 0
    for n in E4.UNITS:
        for j in range(n):
            if i == FROZEN:
                return x
            x = E4.unit(P, i, x, 2 if j == 0 else 1)
            i += 1
    raise ValueError("FROZEN is past the body")


def upper(P, c2):
    """The fitted part: the last stage (units FROZEN..23) and style 0 → the code, the same in all 10 styles."""
    x = c2
    for i, stride in zip(range(FROZEN, sum(E4.UNITS)), [2, 1, 1]):
        x = E4.unit(P, i, x, stride)
    return E4.style_block(P, 0, x) + P["latent_avg"][0]


def upper_keys(P):
    return [k for k in P if not k.endswith(("running_mean", "running_var"))
            and (k.startswith("styles.0.") or any(k.startswith(f"body.{i}.") for i in range(FROZEN, sum(E4.UNITS))))]


def cache_features(P, crops, ps, src, copies, g, batch=16):
    """c2 of `copies` augmented versions of every crop (the first unaugmented), with their targets (flips swap eyes)."""
    feats, ys, ss = [], [], []
    for c in range(copies):
        for i in range(0, len(crops), batch):
            img = torch.from_numpy(crops[i:i + batch].copy()).permute(0, 3, 1, 2).float() / 127.5 - 1
            y = torch.from_numpy(ps[i:i + batch].copy())
            if c > 0:
                flip = torch.rand(len(img), generator=g) < 0.5
                img[flip] = img[flip].flip(-1)
                y[flip] = y[flip][:, [0, 1, 3, 2, 4, 5, 6, 7, 8, 9]]
                img = augment(img, g)
            with torch.no_grad():
                feats.append(lower(P, img).half())
            ys.append(y)
            ss.append(torch.from_numpy(src[i:i + batch].copy()))
        print("copy", c + 1, "of", copies, flush=True)
    return torch.cat(feats), torch.cat(ys), torch.cat(ss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--init", required=True, help="encoder bundle folder whose units 0-20 are kept (the demo-v5 encoder)")
    ap.add_argument("--data", nargs="+", required=True, help="stems: STEM.mp4 (256² crops) + STEM.json (faces track)")
    ap.add_argument("--held-out", nargs="*", default=[], help="stems measured (never fitted) every 200 iterations")
    ap.add_argument("--stride", type=int, default=2, help="every n-th frame of a clip (neighbours are near copies)")
    ap.add_argument("--copies", type=int, default=4, help="versions of each crop: unaugmented + augmented ones")
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default="4,1.5,2,2,1.5,1,1,1,3,1",
                    help="loss weight of each head parameter (head_field.PARAMS order)")
    ap.add_argument("--resid-weight", type=float, default=4.0,
                    help="weight of the code's part outside the head parameters' directions (the generator never saw it)")
    ap.add_argument("--weight-decay", type=float, default=1e-3, help="AdamW's decoupled weight decay")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    P = {k: torch.from_numpy(v) for k, v in st_io.load(os.path.join(a.init, "weights.safetensors")).items()}
    w_avg, AS = D.w_layout()
    cache = os.path.join(a.work, "features.pt")
    if os.path.exists(cache):
        F, Y, SRC, held = torch.load(cache, weights_only=False)
    else:
        crops, ps, src = [], [], []
        for j, s in enumerate(a.data):
            c, p = load_clip(s)
            step = a.stride if len(c) > 10 else 1
            crops.append(c[::step])
            ps.append(p[::step])
            src.append(np.full(len(c[::step]), j))
            print(s, len(c), "frames; p̂ mean", p.mean(0).round(2), flush=True)
        F, Y, SRC = cache_features(P, np.concatenate(crops), np.concatenate(ps), np.concatenate(src), a.copies, g)
        held = []
        for s in a.held_out:
            c, p = load_clip(s)
            f, y, _ = cache_features(P, c, p, np.zeros(len(c), int), 1, g)
            held.append((os.path.basename(s), f, y))
        torch.save((F, Y, SRC, held), cache)
    prob = torch.from_numpy(sampling_weights(Y.numpy(), SRC.numpy()))
    print(len(F), "cached crops; mouth p̂ range", Y[:, 0].min().item(), Y[:, 0].max().item(), flush=True)
    # One code in all 10 styles: the demo generator was fitted with one w in all its layers (e4e's deltas are
    # zero, which its delta regularisation only approaches).
    for k in range(1, E4.style_count(P)):
        P[f"styles.{k}.linear.weight"] = torch.zeros_like(P[f"styles.{k}.linear.weight"])
        P[f"styles.{k}.linear.bias"] = torch.zeros_like(P[f"styles.{k}.linear.bias"])
    # The fitted part starts afresh (init_params), so that nothing of it was fitted on the earlier warped mouths.
    fresh = init_params(E4.style_count(P), D.W_DIM, g)
    train = upper_keys(P)
    for k in train:
        P[k] = fresh[k].clone()
    opt = torch.optim.AdamW([P[k].requires_grad_() for k in train], lr=a.lr, weight_decay=a.weight_decay)
    wexp = torch.tensor([float(v) for v in a.weights.split(",")], dtype=torch.float32)

    def measure():
        with torch.no_grad():
            for name, f, y in held:
                q = torch.cat([(upper(P, f[i:i + 64].float()) - w_avg) @ AS / D.S ** 2 for i in range(0, len(f), 64)]).numpy()
                r = [np.corrcoef(y[:, k].numpy(), q[:, k])[0, 1] for k in range(5)]
                print(f"  held out {name}: r mouth {r[0]:.3f} smile {r[1]:.3f} blink {r[2]:.3f} {r[3]:.3f} brows {r[4]:.3f}", flush=True)

    t0 = time.time()
    for it in range(a.iters):
        lr = a.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * it / a.iters)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        idx = torch.multinomial(prob, a.batch, replacement=True, generator=g)
        code = upper(P, F[idx].float())
        off = code - w_avg
        p_pred = off @ AS / (D.S ** 2)
        resid = off - p_pred @ AS.t()
        loss = ((p_pred - Y[idx]).square() * wexp).mean() + a.resid_weight * resid.square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 100 == 0:
            print(f"{it} loss {loss.item():.4f} lr {lr:.5f} {time.time() - t0:.0f}s", flush=True)
        if (it + 1) % 500 == 0 or it + 1 == a.iters:
            measure()
    torch.save({"P": {k: v.detach() for k, v in P.items()}, "iter": a.iters}, os.path.join(a.work, "encoder.pt"))


if __name__ == "__main__":
    main()
