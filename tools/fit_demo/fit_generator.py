"""Fits the demo source generator (or a style generator, --style) to the procedural head: the tri-plane field at 3D
points is supervised directly with the procedural density and colour for random head parameters p, w = w_avg + S·A·p.
Then fits the mapping network so random z give random heads. CPU, a few minutes; checkpoints to --work.
  python3 fit_generator.py --work /tmp/fit --iters 1500                     # source
  python3 fit_generator.py --work /tmp/fit --style caricature --init /tmp/fit/source.pt --iters 300"""
import argparse
import os
import time

import torch

import demo_family as D
import eg3d_torch as E
import head_field as H


def sample_points(p, n, style, g):
    """n points for one head: half near the surface (picked by |sdf|, the face weighted up), half anywhere in the box."""
    cand = torch.rand(4 * n, 3, generator=g) * torch.tensor([0.8, 0.9, 0.8]) - torch.tensor([0.4, 0.48, 0.4])
    sdf, _ = H.field(cand, p.expand(len(cand), -1), style)
    face = (cand[:, 2] > 0.08).float() * (cand[:, 1] > -0.25).float() * (cand[:, 1] < 0.15).float() * (cand[:, 0].abs() < 0.16).float()
    wgt = torch.exp(-sdf.abs() / 0.02) * (1 + 3 * (cand[:, 2] > 0.08).float() * (cand[:, 1] > -0.3).float() + 8 * face)
    idx = torch.multinomial(wgt, n // 2, replacement=False, generator=g)
    near = cand[idx] + torch.randn(n // 2, 3, generator=g) * 0.004
    # Rays reach a little past the box at its corners (ray_start 2.25 … ray_end 3.3 from radius 2.7), where the planes
    # read zeros: the decoder must give empty space there too.
    far = (torch.rand(n - n // 2, 3, generator=g) - 0.5) * 1.3
    return torch.cat([near, far], 0)


def field_losses(sig, rgb, sdf, col):
    """Density (weighted near the surface), colour and SR-feature errors of decoded points against the procedural head."""
    tgt = H.raw_density(sdf)
    wd = 1 + 4 * torch.exp(-sdf.abs() / 0.02)
    ld = (wd * torch.nn.functional.smooth_l1_loss(sig[..., 0] / 10, tgt / 10, reduction="none")).mean()
    wc = torch.exp(-sdf.abs() / 0.015)
    lc = (wc[..., None] * (rgb[..., :3] - col).abs()).sum() / wc.sum() / 3
    # The 29 features the super-resolution could use repeat the colour (the demo SR does not read them).
    lf = (wc[..., None] * (rgb[..., 3:] - col.repeat(1, 1, 10)[..., :29]).abs()).sum() / wc.sum() / 29
    return ld, lc, lf


def random_p(b, g):
    p = (torch.rand(b, H.K, generator=g) * 3 - 1.5)
    keep = (torch.rand(b, H.K, generator=g) < 0.6).float()
    return p * keep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--style", default="source")
    ap.add_argument("--init", help="start from this fitted .pt (style fine-tuning)")
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--points", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    ck = os.path.join(a.work, f"{a.style}.pt")
    w_avg, AS = D.w_layout()
    start = 0
    if os.path.exists(ck):
        state = torch.load(ck, weights_only=False)
        P, start = state["P"], state["iter"]
    elif a.init:
        P = torch.load(a.init, weights_only=False)["P"]
    else:
        P = D.init_params()
    if a.style == "source":
        # The backbone's constant noise maps are fitted too: learned per-pixel inputs at every resolution give
        # the small features (eyes, brows, mouth) a place to start from, which a conv stack grown from a 4² const
        # learns only slowly.
        for k in list(P):
            if k.startswith("backbone.synthesis") and k.endswith("noise_strength") and float(P[k]) == 0:
                P[k] = torch.tensor(0.3)
                P[k.replace("noise_strength", "noise_const")] = torch.zeros_like(P[k.replace("noise_strength", "noise_const")])
        train = [k for k in P if not k.startswith(("superresolution", "backbone.mapping"))
                 and not k.endswith("resample_filter")
                 and not (".conv" in k and k.endswith("affine.weight"))]
    elif a.style == "caricature":
        # Geometry lives in the early layers' styles (Δs on b4…b32, as the method adapts them), so --geometry α
        # moves between the source's shape (0) and the caricature's (1); the decoder adapts the colours.
        train = [k for k in P if any(f"synthesis.b{r}." in k for r in (4, 8, 16, 32)) and k.endswith("affine.bias")]
        train += [k for k in P if k.startswith("decoder")]
    else:
        # Appearance styles (poster, sketch): the decoder alone, so the shape and everything W does stay the
        # source's and only the colours change.
        train = [k for k in P if k.startswith("decoder")]
    params = [P[k].requires_grad_() for k in train]
    dec = [P[k] for k in train if k.startswith("decoder")]
    noise = [P[k] for k in train if "noise" in k]
    rest = [P[k] for k in train if not k.startswith("decoder") and "noise" not in k]
    opt = torch.optim.Adam([{"params": rest, "scale": 1.0}, {"params": dec, "scale": 3.0}, {"params": noise, "scale": 5.0}],
                           lr=a.lr, betas=(0.9, 0.99))
    if os.path.exists(ck) and "opt" in torch.load(ck, weights_only=False):
        try:
            opt.load_state_dict(torch.load(ck, weights_only=False)["opt"])
        except ValueError:
            print("optimizer state does not match the trained set: starting it afresh", flush=True)
    g = torch.Generator().manual_seed(1234 + start)
    t0 = time.time()
    nws = E.num_ws(P)
    for it in range(start, a.iters):
        lr = a.lr * (0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(it / a.iters * 3.14159)).item()))
        for pg in opt.param_groups:
            pg["lr"] = lr * pg["scale"]
        p = random_p(a.batch, g)
        pts = torch.stack([sample_points(p[i:i + 1], a.points, a.style, g) for i in range(a.batch)])
        with torch.no_grad():
            sdf, col = H.field(pts.reshape(-1, 3), p.repeat_interleave(a.points, 0), a.style)
            sdf, col = sdf.reshape(a.batch, -1), col.reshape(a.batch, -1, 3)
        ws = D.w_of(p, w_avg, AS)[:, None].repeat(1, nws, 1)
        if any(k.startswith("backbone") for k in train):
            planes = D.planes_batch(P, ws)
        else:
            with torch.no_grad():
                planes = D.planes_batch(P, ws)
        feat = E.sample_planes(planes.view(a.batch, 3, D.CH, D.RES, D.RES), pts * 2)
        sig, rgb = E.decoder(P, feat)
        ld, lc, lf = field_losses(sig, rgb, sdf, col)
        loss = ld + 10 * lc + 0.2 * lf
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 20 == 0:
            print(f"{it} loss {loss.item():.4f} dens {ld.item():.4f} col {lc.item():.4f} lr {lr:.5f} {time.time() - t0:.0f}s", flush=True)
        if (it + 1) % 100 == 0 or it + 1 == a.iters:
            torch.save({"P": {k: v.detach() for k, v in P.items()}, "iter": it + 1, "opt": opt.state_dict()}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
    if a.style == "source":
        fit_mapping(P, w_avg, AS)
        torch.save({"P": {k: v.detach() for k, v in P.items()}, "iter": a.iters, "mapped": True}, ck)


def fit_mapping(P, w_avg, AS, steps=1500):
    """mapping(z, c) ≈ w_avg + S·A·p(z), p(z) = clamp(0.6·z[:K]): random seeds give random heads, the camera is ignored."""
    g = torch.Generator().manual_seed(7)
    names = [k for k in P if k.startswith("backbone.mapping") and not k.endswith("w_avg")]
    for k in names:
        P[k] = P[k].detach().requires_grad_()
    opt = torch.optim.Adam([P[k] for k in names], lr=0.05)
    for it in range(steps):
        z = torch.randn(256, D.Z_DIM, generator=g)
        c = torch.stack([torch.from_numpy(E.camera(float(y), float(q))) for y, q in torch.rand(256, 2, generator=g) * 0.8 - 0.4])[:, :]
        target = D.w_of((0.6 * E.norm2(z)[:, :H.K]).clamp(-1.5, 1.5), w_avg, AS)
        w = E.mapping(P, z, c, 1)[:, 0]
        loss = (w - target).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 300 == 0:
            print("mapping", it, loss.item(), flush=True)
    print("mapping final", loss.item(), flush=True)
    for k in names:
        P[k] = P[k].detach()


if __name__ == "__main__":
    main()
