"""A functional PyTorch re-implementation of the e4e Encoder4Editing forward (IR-SE50 body with bottleneck_IR_SE
units, FPN laterals, GradualStyleBlocks, codes = w0 + deltas + latent_avg) as avatarize runs it
(Sources/Models/Encoder), written from the architecture facts of omertov/encoder4editing. Parameters are a dict
with the official state-dict names; BatchNorm uses its running statistics (eval mode).
Parity: `python3 e4e_torch.py --check FIXTURE_DIR`."""
import math

import torch
import torch.nn.functional as F

UNITS = [3, 4, 14, 3]
TAPS = (6, 20, 23)


def bn(P, p, x):
    return F.batch_norm(x, P[p + ".running_mean"], P[p + ".running_var"], P[p + ".weight"], P[p + ".bias"], False, 0.0, 1e-5)


def unit(P, i, x, stride):
    p = f"body.{i}"
    if (p + ".shortcut_layer.0.weight") in P:
        sc = bn(P, p + ".shortcut_layer.1", F.conv2d(x, P[p + ".shortcut_layer.0.weight"], stride=stride))
    else:
        sc = x[:, :, ::stride, ::stride]  # MaxPool2d(1, stride)
    r = bn(P, p + ".res_layer.0", x)
    r = F.conv2d(r, P[p + ".res_layer.1.weight"], padding=1)
    r = F.prelu(r, P[p + ".res_layer.2.weight"])
    r = F.conv2d(r, P[p + ".res_layer.3.weight"], stride=stride, padding=1)
    r = bn(P, p + ".res_layer.4", r)
    s = r.mean(dim=[2, 3], keepdim=True)
    s = torch.sigmoid(F.conv2d(F.relu(F.conv2d(s, P[p + ".res_layer.5.fc1.weight"])), P[p + ".res_layer.5.fc2.weight"]))
    return r * s + sc


def style_block(P, i, x):
    k = 0
    while f"styles.{i}.convs.{k}.weight" in P:
        x = F.leaky_relu(F.conv2d(x, P[f"styles.{i}.convs.{k}.weight"], P[f"styles.{i}.convs.{k}.bias"], stride=2, padding=1), 0.01)
        k += 2
    x = x.reshape(x.shape[0], -1)
    w = P[f"styles.{i}.linear.weight"]
    return x @ (w / math.sqrt(w.shape[1])).t() + P[f"styles.{i}.linear.bias"]


def style_count(P):
    n = 0
    while f"styles.{n}.linear.weight" in P:
        n += 1
    return n


def encode(P, img, taps=False):
    """img [N, 3, 256, 256] in [-1, 1] → (styles, codes) [N, n, w] (and the taps c1, c2, c3)."""
    x = F.prelu(bn(P, "input_layer.1", F.conv2d(img, P["input_layer.0.weight"], padding=1)), P["input_layer.2.weight"])
    i = 0
    c = {}
    for n in UNITS:
        for j in range(n):
            x = unit(P, i, x, 2 if j == 0 else 1)
            if i in TAPS:
                c[i] = x
            i += 1
    c1, c2, c3 = c[6], c[20], c[23]
    n = style_count(P)
    w0 = style_block(P, 0, c3)
    out = [w0]
    feats = c3
    p2 = None
    for k in range(1, n):
        if k == 3:
            p2 = F.interpolate(c3, size=c2.shape[-2:], mode="bilinear", align_corners=True) + F.conv2d(c2, P["latlayer1.weight"], P["latlayer1.bias"])
            feats = p2
        elif k == 7:
            feats = F.interpolate(p2, size=c1.shape[-2:], mode="bilinear", align_corners=True) + F.conv2d(c1, P["latlayer2.weight"], P["latlayer2.bias"])
        out.append(w0 + style_block(P, k, feats))
    styles = torch.stack(out, 1)
    codes = styles + P["latent_avg"][None]
    return (styles, codes, (c1, c2, c3)) if taps else (styles, codes)


if __name__ == "__main__":
    import argparse
    import os

    import st_io
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", required=True)
    a = ap.parse_args()
    P = {k: torch.from_numpy(v) for k, v in st_io.load(os.path.join(a.check, "weights.safetensors")).items()}
    io = st_io.load(os.path.join(a.check, "io.safetensors"))
    with torch.no_grad():
        s, c, (c1, c2, c3) = encode(P, torch.from_numpy(io["image"]), taps=True)
    for k, v in [("styles", s), ("codes", c), ("c_after_unit6", c1), ("c_after_unit20", c2), ("c_after_unit23", c3)]:
        ref = torch.from_numpy(io[k])
        print(k, float((v - ref).abs().max() / ref.abs().max()))
