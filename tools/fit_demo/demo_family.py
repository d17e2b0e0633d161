"""Shared facts of the fitted demo family: the architecture (Sources/Models/DemoModelFamily.swift), the fixed
W layout w = w_avg + S·A·p (A orthonormal, one column per head parameter) and parameter initialisation."""
import math

import numpy as np
import torch

import head_field as H

W_DIM, Z_DIM, C_DIM = 32, 32, 25
CH, PLANE_C, RES = 32, 96, 64
S = 1.5  # |w − w_avg| per unit of a head parameter
RENDER = dict(ray_start=2.25, ray_end=3.3, depth_resolution=16, depth_resolution_importance=16, box_warp=1.0)


def w_layout():
    g = np.random.default_rng(20261128)
    w_avg = (g.standard_normal(W_DIM) * 0.5).astype(np.float32)
    q, _ = np.linalg.qr(g.standard_normal((W_DIM, H.K)))
    return torch.from_numpy(w_avg), torch.from_numpy((q * S).astype(np.float32))  # A·S: [W_DIM, K]


def w_of(p, w_avg, AS):
    return w_avg + p @ AS.t()


def init_params(seed=1):
    """StyleGAN2-style initialisation with official key names (shapes as GeneratorArchitecture.expectedShapes)."""
    g = torch.Generator().manual_seed(seed)
    rn = lambda *s: torch.randn(*s, generator=g)
    f1 = torch.tensor([1.0, 3.0, 3.0, 1.0])
    filt = torch.outer(f1, f1)
    filt = filt / filt.sum()
    P = {}

    def lay(p, cin, cout, res, noise):
        P[p + ".weight"] = rn(cout, cin, 3, 3)
        P[p + ".bias"] = torch.zeros(cout)
        P[p + ".resample_filter"] = filt.clone()
        P[p + ".affine.weight"] = rn(cin, W_DIM)
        P[p + ".affine.bias"] = torch.ones(cin)
        if noise:
            P[p + ".noise_const"] = rn(res, res)
            P[p + ".noise_strength"] = torch.zeros(())

    def blk(p, res, cin, cout, img):
        if cin == 0:
            P[p + ".const"] = rn(cout, res, res)
        P[p + ".resample_filter"] = filt.clone()
        if cin:
            lay(p + ".conv0", cin, cout, res, True)
        lay(p + ".conv1", cout, cout, res, True)
        P[p + ".torgb.weight"] = rn(img, cout, 1, 1)
        P[p + ".torgb.bias"] = torch.zeros(img)
        P[p + ".torgb.affine.weight"] = rn(cout, W_DIM)
        P[p + ".torgb.affine.bias"] = torch.ones(cout)

    r, prev = 4, 0
    while r <= RES:
        blk(f"backbone.synthesis.b{r}", r, prev, CH, PLANE_C)
        prev, r = CH, r * 2
    blk("superresolution.block0", 128, 32, 32, 3)
    blk("superresolution.block1", 256, 32, 16, 3)
    # The super-resolution is its skip path alone (FIR upsampling of the raw image): residual colour off.
    for b in ["superresolution.block0", "superresolution.block1"]:
        P[b + ".torgb.weight"].zero_()
    P["backbone.mapping.embed.weight"] = rn(W_DIM, C_DIM)
    P["backbone.mapping.embed.bias"] = torch.zeros(W_DIM)
    P["backbone.mapping.fc0.weight"] = rn(W_DIM, Z_DIM + W_DIM) / 0.01
    P["backbone.mapping.fc0.bias"] = torch.zeros(W_DIM)
    P["backbone.mapping.fc1.weight"] = rn(W_DIM, W_DIM) / 0.01
    P["backbone.mapping.fc1.bias"] = torch.zeros(W_DIM)
    P["backbone.mapping.w_avg"] = w_layout()[0].clone()
    P["decoder.net.0.weight"] = rn(64, CH)
    P["decoder.net.0.bias"] = torch.zeros(64)
    P["decoder.net.2.weight"] = rn(33, 64)
    P["decoder.net.2.bias"] = torch.zeros(33)
    # Density needs raw values of tens (softplus(σ − 1) per unit length over a 1 m ray): start its row larger.
    P["decoder.net.2.weight"][0] *= 20
    # The conv layers' styles do not depend on w (their affine weights are zero): the tri-planes are then an
    # affine function of w through the ToRGB layers, which keeps directions in W consistent across heads.
    for k in list(P):
        if k.startswith("backbone.synthesis") and ".conv" in k and k.endswith("affine.weight"):
            P[k].zero_()
    return P


def planes_batch(P, ws):
    """Backbone for a batch of ws [B, n, w] sharing one feature path (conv styles independent of w)."""
    from eg3d_torch import backbone_blocks, bias_act, fc, layer, upsample2d
    x = img = None
    k = 0
    for p, r in backbone_blocks(P):
        n = 1 if r == 4 else 2
        w1 = ws[:1, k]
        if r == 4:
            x = layer(P, p + ".conv1", P[p + ".const"][None], w1, 1, True, None)
        else:
            x = layer(P, p + ".conv0", x, w1, 2, True, None)
            x = layer(P, p + ".conv1", x, ws[:1, k + 1], 1, True, None)
        wt = P[p + ".torgb.weight"][:, :, 0, 0]
        st = fc(P, p + ".torgb.affine", ws[:, k + n]) / math.sqrt(wt.shape[1])
        y = torch.einsum("oc,bc,chw->bohw", wt, st, x[0])
        y = bias_act(y, P[p + ".torgb.bias"], False, None)
        img = y if img is None else upsample2d(img, P[p + ".resample_filter"]) + y
        k += n
    return img
