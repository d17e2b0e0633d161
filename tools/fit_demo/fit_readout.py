"""The demo encoder's readout: ridge regression from the frozen IR-SE50 features (units 0-20, e4e's tap c2) to the
head parameters p̂, written into e4e's own layers as an exactly linear chain.

Why linear: fitted by gradient descent, the last IR-SE50 stage and style block learn who is speaking (the loss goes
to 0.002 on the fitted clips while the held-out clip's mouth r falls from 0.28 to 0.22); a ridge readout on the same
features, chosen by leaving one clip out, reads the mouth of a speaker it never saw at r 0.65. Measured with
`python3 fit_readout.py --work W --init V5` (it prints both; W/features.pt comes from fit_encoder.py, whose
docstring gives the whole recipe).

How it is written into Encoder4Editing's layers (omertov/encoder4editing, models/encoders/psp_encoders.py), with
nothing but weights, so the Swift encoder runs it unchanged:
- unit 21 (the last stage's stride-2 bottleneck_IR_SE): its first BatchNorm standardises each channel, PReLU slopes
  are 1 (identity), the squeeze-excitation's second layer is zero (so it scales by sigmoid(0) = 0.5, undone by the
  last BatchNorm's weight 2), the shortcut's BatchNorm is zero: the unit is two 3×3 convolutions;
- units 22 and 23: the residual's last BatchNorm is zero, so each passes its input through;
- style block 0: LeakyReLU(y) − LeakyReLU(−y) = 1.01·y, so each convolution writes y and −y and the next one reads
  their difference: four linear stride-2 convolutions and the EqualLinear, which maps p to w_avg + S·A·p;
- styles 1-9 add nothing and every row of latent_avg is w_avg: one w in all styles, as the generator was fitted.
The chain is fitted to reproduce the ridge readout on the fitted crops (its convolutions share weights across
positions, so it cannot take the ridge weights as they are)."""
import argparse
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import demo_family as D
import e4e_torch as E4
import fit_encoder as FE
import st_io

SLOPE = 0.01  # e4e's GradualStyleBlock uses nn.LeakyReLU() (PyTorch's default negative slope)
HALF = 16     # the style block's 32 channels hold y and −y


class Chain(torch.nn.Module):
    """c2 [N, 16, 32, 32] (standardised per channel) → p [N, K], with the shapes of the layers it is written into."""

    def __init__(self, c2, c3, k):
        super().__init__()
        self.a = torch.nn.Conv2d(c2, c3, 3, padding=1, bias=False)
        self.b = torch.nn.Conv2d(c3, c3, 3, stride=2, padding=1, bias=False)
        self.s = torch.nn.ModuleList([torch.nn.Conv2d(c3 if i == 0 else HALF, HALF, 3, stride=2, padding=1, bias=False) for i in range(4)])
        self.out = torch.nn.Linear(HALF, k)

    def forward(self, x):
        x = self.b(self.a(x))
        for conv in self.s:
            x = conv(x)
        return self.out(x.flatten(1))


def ridge(X, Y, lam):
    """Dual-form ridge: weights [d, K] and the targets' mean."""
    ym = Y.mean(0)
    alpha = np.linalg.solve(X @ X.T + lam * np.eye(len(X)), Y - ym)
    return X.T @ alpha, ym


def pooled(x, pool):
    return F.avg_pool2d(x, pool).flatten(1).numpy().astype(np.float64)


def write(P, chain, mu, sd, w_avg, AS):
    """The chain as e4e parameters (official key names), over the frozen units of P."""
    P = {k: v.clone() for k, v in P.items()}
    eps = 1e-5

    def batchnorm(p, mean, var, weight, bias):
        P[p + ".running_mean"], P[p + ".running_var"] = mean.clone(), var.clone()
        P[p + ".weight"], P[p + ".bias"] = weight.clone(), bias.clone()

    c2, c3 = chain.a.in_channels, chain.a.out_channels
    u = "body.21"
    batchnorm(u + ".res_layer.0", mu, sd ** 2 - eps, torch.ones(c2), torch.zeros(c2))
    P[u + ".res_layer.1.weight"] = chain.a.weight.detach().clone()
    P[u + ".res_layer.2.weight"] = torch.ones(c3)
    P[u + ".res_layer.3.weight"] = chain.b.weight.detach().clone()
    batchnorm(u + ".res_layer.4", torch.zeros(c3), torch.full((c3,), 1 - eps), torch.full((c3,), 2.0), torch.zeros(c3))
    P[u + ".res_layer.5.fc2.weight"] = torch.zeros_like(P[u + ".res_layer.5.fc2.weight"])
    batchnorm(u + ".shortcut_layer.1", torch.zeros(c3), torch.ones(c3), torch.zeros(c3), torch.zeros(c3))
    for i in (22, 23):
        p = f"body.{i}.res_layer.4"
        batchnorm(p, torch.zeros(c3), torch.ones(c3), torch.zeros(c3), torch.zeros(c3))
    for i, conv in enumerate(chain.s):
        k = conv.weight.detach()
        if i > 0:  # read y = (y⁺ − y⁻) / 1.01 from the previous layer's two halves
            k = torch.cat([k, -k], 1) / (1 + SLOPE)
        P[f"styles.0.convs.{2 * i}.weight"] = torch.cat([k, -k], 0).contiguous()
        P[f"styles.0.convs.{2 * i}.bias"] = torch.zeros(2 * HALF)
    m = AS @ chain.out.weight.detach()  # [w, HALF]: p ↦ S·A·p
    lin = torch.cat([m, -m], 1) / (1 + SLOPE)
    P["styles.0.linear.weight"] = (lin * math.sqrt(lin.shape[1])).contiguous()  # EqualLinear divides by √in
    P["styles.0.linear.bias"] = (chain.out.bias.detach() @ AS.t()).contiguous()
    for k in range(1, E4.style_count(P)):
        P[f"styles.{k}.linear.weight"] = torch.zeros_like(P[f"styles.{k}.linear.weight"])
        P[f"styles.{k}.linear.bias"] = torch.zeros_like(P[f"styles.{k}.linear.bias"])
    P["latent_avg"] = w_avg[None].repeat(P["latent_avg"].shape[0], 1).contiguous()
    return P


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="holds features.pt (fit_encoder.py's cache); encoder.pt is written here")
    ap.add_argument("--init", required=True, help="the encoder bundle whose units 0-20 made the features (demo-v5)")
    ap.add_argument("--pool", type=int, default=4, help="average pooling of the 32² features before the ridge readout")
    ap.add_argument("--lam", type=float, default=100.0, help="ridge penalty (leave-one-clip-out: 100 at pool 4)")
    ap.add_argument("--iters", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(7)
    P = {k: torch.from_numpy(v) for k, v in st_io.load(os.path.join(a.init, "weights.safetensors")).items()}
    w_avg, AS = D.w_layout()
    feats, Y, _, held = torch.load(os.path.join(a.work, "features.pt"), weights_only=False)
    feats = feats.float()
    mu = feats.mean((0, 2, 3))
    sd = feats.std((0, 2, 3)).clamp_min(1e-2)
    x = (feats - mu[None, :, None, None]) / sd[None, :, None, None]
    W, ym = ridge(pooled(x, a.pool), Y.numpy().astype(np.float64), a.lam)
    target = torch.from_numpy(pooled(x, a.pool) @ W + ym).float()

    def ridge_of(f):
        z = (f.float() - mu[None, :, None, None]) / sd[None, :, None, None]
        return pooled(z, a.pool) @ W + ym

    chain = Chain(feats.shape[1], P["body.21.res_layer.1.weight"].shape[0], Y.shape[1])
    opt = torch.optim.Adam(chain.parameters(), lr=2e-3)
    t0 = time.time()
    for it in range(a.iters):
        for g in opt.param_groups:
            g["lr"] = 2e-3 * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * it / a.iters)))
        idx = torch.randint(len(x), (64,))
        loss = (chain(x[idx]) - target[idx]).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 500 == 0 or it + 1 == a.iters:
            print(f"{it} distillation loss {loss.item():.5f} {time.time() - t0:.0f}s", flush=True)
    with torch.no_grad():
        fit = torch.cat([chain(x[i:i + 256]) for i in range(0, len(x), 256)])
        print(f"chain vs ridge on the fitted crops: r² {1 - (fit - target).square().sum() / (target - target.mean(0)).square().sum():.4f}")
        Pn = write(P, chain, mu, sd, w_avg, AS)
        for name, f, y in held:
            z = (f.float() - mu[None, :, None, None]) / sd[None, :, None, None]
            q = chain(z).numpy()
            e4e = ((FE.upper(Pn, f.float()) - w_avg) @ AS / D.S ** 2).numpy()
            r = ridge_of(f)
            for label, v in (("ridge", r), ("chain", q), ("e4e layers", e4e)):
                rs = [np.corrcoef(y[:, k].numpy(), v[:, k])[0, 1] for k in range(5)]
                print(f"held out {name}, {label}: r mouth {rs[0]:.3f} smile {rs[1]:.3f} blink {rs[2]:.3f} {rs[3]:.3f} brows {rs[4]:.3f}")
            print(f"e4e layers vs chain: max |Δp| {np.abs(e4e - q).max():.2e}")
    torch.save({"P": Pn, "iter": a.iters}, os.path.join(a.work, "encoder.pt"))


if __name__ == "__main__":
    main()
