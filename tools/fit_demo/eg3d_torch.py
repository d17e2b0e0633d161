"""A functional PyTorch re-implementation of the EG3D TriPlaneGenerator inference path exactly as avatarize runs it
(Sources/Models: mapping, StyleGAN2 'skip' backbone, tri-plane sampling on the XY/XZ/ZX planes, OSG decoder,
deterministic importance renderer, two-block super-resolution), written from the architecture facts of
NVlabs/eg3d (training/triplane.py, networks_stylegan2.py, volumetric_rendering/*). Parameters live in a dict
keyed by the official state-dict names, so a fitted dict is saved as a bundle unchanged.
Parity: `python3 eg3d_torch.py --check FIXTURE_DIR` compares with a fixture made by the official code."""
import math

import numpy as np
import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def fc(P, prefix, x, lr=1.0, act=None):
    w = P[prefix + ".weight"]
    y = x @ (w * (lr / math.sqrt(w.shape[1]))).t() + P[prefix + ".bias"] * lr
    if act == "lrelu":
        y = F.leaky_relu(y, 0.2) * SQRT2
    return y


def norm2(x):
    return x * (x.square().mean(dim=-1, keepdim=True) + 1e-8).rsqrt()


def mapping(P, z, c, num_ws, layers=2, lr=0.01, psi=1.0, cutoff=None):
    x = torch.cat([norm2(z), norm2(fc(P, "backbone.mapping.embed", c))], dim=-1)
    for i in range(layers):
        x = fc(P, f"backbone.mapping.fc{i}", x, lr=lr, act="lrelu")
    ws = x.unsqueeze(1).repeat(1, num_ws, 1)
    if psi != 1:
        cut = num_ws if cutoff is None else min(cutoff, num_ws)
        avg = P["backbone.mapping.w_avg"]
        ws[:, :cut] = avg.lerp(ws[:, :cut], psi)
    return ws


def fir(x, f, pad, gain):
    """upfirdn2d with up = down = 1: pad (x0, x1, y0, y1) then a depthwise FIR (symmetric filter, flip moot)."""
    c = x.shape[1]
    k = (f * gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    x = F.pad(x, [pad[0], pad[1], pad[2], pad[3]])
    return F.conv2d(x, k, groups=c)


def upsample2d(x, f):
    n, c, h, w = x.shape
    z = torch.zeros(n, c, h * 2, w * 2, dtype=x.dtype)
    z[:, :, ::2, ::2] = x
    fw = f.shape[0]
    p0, p1 = (fw + 1) // 2, (fw - 2) // 2
    return fir(z, f, [p0, p1, p0, p1], 4.0)


def modconv(x, weight, styles, demod, up, f):
    """Per-sample modulated conv (batch loop), as conv2d_resample with flip_weight = (up == 1)."""
    outs = []
    k = weight.shape[2]
    for i in range(x.shape[0]):
        w = weight * styles[i][None, :, None, None]
        if demod:
            w = w * (w.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).rsqrt()
        xi = x[i:i + 1]
        if up == 1:
            outs.append(F.conv2d(xi, w, padding=k // 2))
        else:
            fw = f.shape[0]
            px0 = k // 2 + (fw + up - 1) // 2 - (k - 1)
            px1 = k // 2 + (fw - up) // 2 - (k - up)
            y = F.conv_transpose2d(xi, w.transpose(0, 1), stride=up)
            outs.append(fir(y, f, [px0, px1, px0, px1], float(up * up)))
    return torch.cat(outs, 0)


def bias_act(x, b, lrelu, clamp):
    x = x + b[None, :, None, None]
    if lrelu:
        x = F.leaky_relu(x, 0.2) * SQRT2
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def layer(P, p, x, w, up, noise, clamp):
    styles = fc(P, p + ".affine", w)
    x = modconv(x, P[p + ".weight"], styles, True, up, P[p + ".resample_filter"])
    if noise and (p + ".noise_const") in P:
        x = x + P[p + ".noise_const"] * P[p + ".noise_strength"]
    return bias_act(x, P[p + ".bias"], True, clamp)


def torgb(P, p, x, w, clamp):
    wt = P[p + ".weight"]
    styles = fc(P, p + ".affine", w) / math.sqrt(wt.shape[1] * wt.shape[2] * wt.shape[3])
    x = modconv(x, wt, styles, False, 1, None)
    return bias_act(x, P[p + ".bias"], False, clamp)


def block(P, p, x, img, ws, noise, clamp):
    """ws: [N, k, w_dim] for this block's affines in order (conv0?, conv1, torgb)."""
    i = 0
    if (p + ".const") in P:
        x = P[p + ".const"][None].repeat(ws.shape[0], 1, 1, 1)
        x = layer(P, p + ".conv1", x, ws[:, 0], 1, noise, clamp)
        i = 1
    else:
        x = layer(P, p + ".conv0", x, ws[:, 0], 2, noise, clamp)
        x = layer(P, p + ".conv1", x, ws[:, 1], 1, noise, clamp)
        i = 2
    y = torgb(P, p + ".torgb", x, ws[:, i], clamp)
    if img is not None:
        y = upsample2d(img, P[p + ".resample_filter"]) + y
    return x, y


def backbone_blocks(P):
    out = []
    r = 4
    while f"backbone.synthesis.b{r}.conv1.weight" in P:
        out.append((f"backbone.synthesis.b{r}", r))
        r *= 2
    return out


def num_ws(P):
    return sum(1 if r == 4 else 2 for _, r in backbone_blocks(P)) + 1


def synthesis(P, ws, noise=True, clamp=None):
    x = img = None
    k = 0
    for p, r in backbone_blocks(P):
        n = 1 if r == 4 else 2
        x, img = block(P, p, x, img, ws[:, k:k + n + 1], noise, clamp)
        k += n
    return img


def sample_planes(planes, pts):
    """planes [N, 3, C, R, R], pts [N, M, 3] already in [-1, 1] → [N, M, C] (mean over the XY, XZ, ZX planes)."""
    x, y, z = pts[..., 0], pts[..., 1], pts[..., 2]
    acc = 0
    for i, (a, b) in enumerate([(x, y), (x, z), (z, x)]):
        g = torch.stack([a, b], -1)[:, None]  # [N, 1, M, 2]
        s = F.grid_sample(planes[:, i], g, mode="bilinear", padding_mode="zeros", align_corners=False)
        acc = acc + s[:, :, 0].permute(0, 2, 1)
    return acc / 3


def decoder(P, feat, lr=1.0):
    h = F.softplus(fc(P, "decoder.net.0", feat, lr))
    o = fc(P, "decoder.net.2", h, lr)
    return o[..., :1], torch.sigmoid(o[..., 1:]) * (1 + 2 * 0.001) - 0.001


def rays(c, res):
    """c [N, 25] → origins, directions [N, res², 3]."""
    N = c.shape[0]
    m = c[:, :16].reshape(N, 4, 4)
    fx, sk, cx, fy, cy = c[:, 16], c[:, 17], c[:, 18], c[:, 20], c[:, 21]
    i, j = torch.meshgrid(torch.arange(res, dtype=torch.float32), torch.arange(res, dtype=torch.float32), indexing="ij")
    y = (i.reshape(-1) + 0.5) / res
    x = (j.reshape(-1) + 0.5) / res
    xl = (x[None] - cx[:, None] + cy[:, None] * sk[:, None] / fy[:, None] - sk[:, None] * y[None] / fy[:, None]) / fx[:, None]
    yl = (y[None] - cy[:, None]) / fy[:, None]
    cam = torch.stack([xl, yl, torch.ones_like(xl), torch.ones_like(xl)], -1)  # [N, M, 4]
    world = torch.einsum("nij,nmj->nmi", m, cam)[..., :3]
    loc = m[:, :3, 3]
    d = world - loc[:, None]
    d = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return loc[:, None].expand_as(d), d


def linspace(a, b, n):
    return torch.linspace(a, b, n)


def march(colors, dens, depths, white_back=False):
    """colors [R, S, C], dens [R, S, 1], depths [R, S, 1] → rgb [R, C], depth [R, 1] (unclamped), weights [R, S-1, 1]."""
    deltas = depths[:, 1:] - depths[:, :-1]
    cm = (colors[:, :-1] + colors[:, 1:]) / 2
    dm = F.softplus((dens[:, :-1] + dens[:, 1:]) / 2 - 1)
    zm = (depths[:, :-1] + depths[:, 1:]) / 2
    alpha = 1 - torch.exp(-dm * deltas)
    shifted = torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha + 1e-10], 1)
    w = alpha * torch.cumprod(shifted, 1)[:, :-1]
    rgb = (w * cm).sum(1)
    tot = w.sum(1)
    depth = torch.nan_to_num((w * zm).sum(1) / tot, float("inf"))
    if white_back:
        rgb = rgb + 1 - tot
    return rgb * 2 - 1, depth, w


def sample_pdf(bins, weights, n, eps=1e-5):
    weights = weights + eps
    pdf = weights / weights.sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)
    u = torch.linspace(0, 1, n).expand(weights.shape[0], n).contiguous()
    inds = torch.searchsorted(cdf, u, right=True)
    below = (inds - 1).clamp_min(0)
    above = inds.clamp_max(weights.shape[1])
    g = torch.stack([below, above], -1).view(weights.shape[0], 2 * n)
    cg = torch.gather(cdf, 1, g).view(-1, n, 2)
    bg = torch.gather(bins, 1, g).view(-1, n, 2)
    den = cg[..., 1] - cg[..., 0]
    den = torch.where(den < eps, torch.ones_like(den), den)
    return bg[..., 0] + (u - cg[..., 0]) / den * (bg[..., 1] - bg[..., 0])


def render(P, planes, origins, dirs, opt, dec_lr=1.0, field=None):
    """planes [1, 3, C, R, R] (batch 1), origins/dirs [M, 3] → features [M, out], depth [M].
    `field(pts) -> (sigma_raw [P,1], feats [P,out])` replaces planes+decoder (to render a procedural field)."""
    start, end, d, ni = opt["ray_start"], opt["ray_end"], opt["depth_resolution"], opt["depth_resolution_importance"]
    scale = 2 / opt.get("box_warp", 1.0)
    M = origins.shape[0]
    coarse = linspace(start, end, d) + 0.5 * (end - start) / (d - 1)

    def run(z):  # z [M, S]
        pts = origins[:, None] + z[..., None] * dirs[:, None]
        if field is not None:
            s, f = field(pts.reshape(-1, 3))
        else:
            s, f = decoder(P, sample_planes(planes, (pts * scale).reshape(1, -1, 3))[0], dec_lr)
        return s.reshape(M, z.shape[1], 1), f.reshape(M, z.shape[1], -1)

    zc = coarse[None].expand(M, d)
    sc, fc_ = run(zc)
    with torch.no_grad():
        _, _, w = march(fc_, sc, zc[..., None])
        w = w[..., 0]
        w = F.max_pool1d(w[:, None], 2, 1, padding=1)
        w = F.avg_pool1d(w, 2, 1)[:, 0] + 0.01
        mids = 0.5 * (zc[:, :-1] + zc[:, 1:])
        zf = sample_pdf(mids, w[:, 1:-1], ni)
    sf, ff = run(zf)
    z = torch.cat([zc, zf], 1)
    order = torch.sort(z, dim=1).indices
    z = torch.gather(z, 1, order)
    s = torch.gather(torch.cat([sc, sf], 1), 1, order[..., None])
    f = torch.gather(torch.cat([fc_, ff], 1), 1, order[..., None].expand(-1, -1, fc_.shape[-1]))
    rgb, depth, _ = march(f, s, z[..., None])
    depth = depth.clamp(z.min(), z.max())
    return rgb, depth[:, 0]


def sr_blocks(P):
    out = []
    i = 0
    while f"superresolution.block{i}.conv1.weight" in P:
        out.append(f"superresolution.block{i}")
        i += 1
    return out


def superresolution(P, rgb, feat, ws, clamp=256.0):
    w = ws[:, -1:].repeat(1, 3, 1)
    x, img = feat, rgb
    for p in sr_blocks(P):
        x, img = block(P, p, x, img, w, False, clamp)
    return img


def camera(yaw=0.0, pitch=0.0, radius=2.7, pivot=(0, 0, 0.2), focal=4.2647):
    """LookAtPoseSampler-style camera (Sources/Models/Camera.swift) → 25 numbers."""
    theta = math.pi / 2 + yaw
    v = min(max(math.pi / 2 + pitch, 1e-5), math.pi - 1e-5) / math.pi
    phi = math.acos(1 - 2 * v)
    o = np.array([radius * math.sin(phi) * math.cos(math.pi - theta), radius * math.cos(phi),
                  radius * math.sin(phi) * math.sin(math.pi - theta)])
    fwd = np.array(pivot) - o
    fwd /= np.linalg.norm(fwd)
    right = np.cross([0, 1, 0], fwd)
    right = -right / np.linalg.norm(right)
    up = np.cross(fwd, right)
    up /= np.linalg.norm(up)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, up, fwd, o
    return np.concatenate([m.reshape(-1), [focal, 0, 0.5, 0, focal, 0.5, 0, 0, 1]]).astype(np.float32)


def generate(P, ws, c, opt, res, with_sr=True, noise=True, chunk=None):
    """ws [1, n, w], c [25] → dict like `avatarize generate --inputs`."""
    planes = synthesis(P, ws, noise=noise)
    C = planes.shape[1] // 3
    planes5 = planes.view(1, 3, C, planes.shape[-2], planes.shape[-1])
    o, d = rays(c[None], res)
    feats, depth = render(P, planes5, o[0], d[0], opt)
    fimg = feats.t().reshape(1, -1, res, res)
    out = {"planes": planes, "feature_image": fimg, "image_raw": fimg[:, :3],
           "image_depth": depth.reshape(1, 1, res, res)}
    if with_sr:
        out["image"] = superresolution(P, fimg[:, :3], fimg, ws)
    return out


if __name__ == "__main__":
    import argparse
    import json
    import os

    import st_io
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", required=True, help="fixture folder (weights.safetensors, io.safetensors, config.json)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    P = {k: torch.from_numpy(v) for k, v in st_io.load(os.path.join(a.check, "weights.safetensors")).items()}
    io = st_io.load(os.path.join(a.check, "io.safetensors"))
    cfg = json.load(open(os.path.join(a.check, "config.json")))
    n = num_ws(P)
    with torch.no_grad():
        ws = mapping(P, torch.from_numpy(io["z"]), torch.from_numpy(io["c_mapping"]), n,
                     psi=cfg.get("truncation_psi", 1), cutoff=cfg.get("truncation_cutoff"))
        print("ws", (ws - torch.from_numpy(io["ws"])).abs().max().item() / np.abs(io["ws"]).max())
        opt = dict(cfg["rendering"])
        out = generate(P, torch.from_numpy(io["ws"]), torch.from_numpy(io["c_render"][0]), opt,
                       cfg["neural_rendering_resolution"])
        for k in ["feature_image", "image_raw", "image_depth", "image"]:
            ref = io[k]
            print(k, float((out[k] - torch.from_numpy(ref)).abs().max() / np.abs(ref).max()))
