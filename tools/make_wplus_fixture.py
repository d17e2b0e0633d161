#!/usr/bin/env python3
"""A PREIM3D WPlusEncoder checkpoint in the released layout, at a reduced width, and the official forward's output,
for the importer's and the encoder's parity tests (Tests/CheckpointsTests/Fixtures/preim3d-wplus.pt and
preim3d-wplus-styles.npy):

  python3 tools/make_wplus_fixture.py <mybabyyh/Preim3D checkout> Tests/CheckpointsTests/Fixtures

PREIM3D's released preim3d_ffhq.pt was trained with --encoder_type WPlusEncoder: pSp's
BackboneEncoderUsingLastLayerIntoWPlus (models/encoders/psp_encoders.py: IR-SE50 trunk, then BatchNorm2d(512),
AdaptiveAvgPool2d((7, 7)), Flatten, Linear(512*7*7, 512), EqualLinear(512, 512*n_styles)). Here the OFFICIAL class
is built with every width >= 64 divided by DIV (32), by rebinding the names its __init__ calls while it is built
(Conv2d, BatchNorm2d, PReLU, Linear, EqualLinear, get_blocks in psp_encoders; the SE block's 1x1 convs in helpers:
hidden = c // 16 if that is >= 2 else c // 2). At DIV 32, w is 16 and there are 14 styles: the W+ of
Tests/CheckpointsTests/Fixtures/eg3d-nrr128.pkl, the generator it is imported with (--generator).
The forward is the official modules' own (input_layer, body, output_layer_2, linear); only its last line,
x.view(-1, n_styles, 512), hard-codes the full width, so the output is reshaped to (n_styles, 16) here.
Weights: torch.manual_seed(SEED) init, then BatchNorm statistics and affine parameters, PReLU slopes and the
EqualLinear bias moved off their defaults (seeded), so that every tensor matters.
Saved as PREIM3D's coach saves: {'state_dict': {'encoder.*': ...}, 'opts': {... encoder_type 'WPlusEncoder',
eg3d_generator ...}, 'latent_avg': [1, 14, 16]} (torch.save's zip format).
Input: x[0, c, i, j] = 0.9 sin(0.05 i + 0.07 j + c) in float32 (computed the same way by the Swift test).
"""
import os
import sys
import types

import numpy as np
import torch

DIV = 32
SEED = 11


def stub_cuda_ops():
    op = types.ModuleType('models.stylegan2.op')

    def unused(*a, **k):
        raise RuntimeError('models.stylegan2.op stub: the encoder forward does not use it')
    op.FusedLeakyReLU, op.fused_leaky_relu, op.upfirdn2d = unused, unused, unused
    sys.modules['models.stylegan2.op'] = op


def build(preim3d):
    sys.path.insert(0, os.path.abspath(preim3d))
    stub_cuda_ops()
    from models.encoders import helpers, psp_encoders
    names = ['Conv2d', 'BatchNorm2d', 'PReLU', 'Linear', 'EqualLinear', 'get_blocks']
    saved = {n: getattr(psp_encoders, n) for n in names}
    saved_helper_conv = helpers.Conv2d

    def d(c):
        return c // DIV if c >= 64 else c

    def se(c):
        return c // 16 if c // 16 >= 2 else c // 2

    def helper_conv(i, o, *a, **k):
        if 'kernel_size' in k:  # only SEModule's fc1 (c -> c // 16) and fc2 (c // 16 -> c) pass kernel_size=
            return saved_helper_conv(i, se(i), *a, **k) if i > o else saved_helper_conv(se(o), o, *a, **k)
        return saved_helper_conv(i, o, *a, **k)

    psp_encoders.Conv2d = lambda i, o, *a, **k: saved['Conv2d'](d(i), d(o), *a, **k)
    psp_encoders.BatchNorm2d = lambda c, *a, **k: saved['BatchNorm2d'](d(c), *a, **k)
    psp_encoders.PReLU = lambda c, *a, **k: saved['PReLU'](d(c), *a, **k)
    psp_encoders.Linear = lambda i, o, *a, **k: saved['Linear'](d(i), d(o), *a, **k)
    psp_encoders.EqualLinear = lambda i, o, *a, **k: saved['EqualLinear'](d(i), d(o), *a, **k)
    psp_encoders.get_blocks = lambda n: [[helpers.Bottleneck(d(b.in_channel), d(b.depth), b.stride) for b in block]
                                         for block in saved['get_blocks'](n)]
    helpers.Conv2d = helper_conv
    try:
        torch.manual_seed(SEED)
        opts = types.SimpleNamespace(n_styles=14, stylegan_size=256)
        enc = psp_encoders.BackboneEncoderUsingLastLayerIntoWPlus(50, 'ir_se', opts)
    finally:
        for n in names:
            setattr(psp_encoders, n, saved[n])
        helpers.Conv2d = saved_helper_conv
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for m in enc.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(1 + 0.1 * torch.randn(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
            elif isinstance(m, torch.nn.PReLU):
                m.weight.copy_(0.25 + 0.05 * torch.randn(m.weight.shape, generator=g))
        enc.linear.bias.copy_(0.1 * torch.randn(enc.linear.bias.shape, generator=g))
    return enc.eval()


def main(preim3d, out):
    enc = build(preim3d)
    i = torch.arange(256, dtype=torch.float32).view(1, 256, 1)
    j = torch.arange(256, dtype=torch.float32).view(1, 1, 256)
    c = torch.arange(3, dtype=torch.float32).view(3, 1, 1)
    x = (0.9 * torch.sin(0.05 * i + 0.07 * j + c)).unsqueeze(0)
    with torch.no_grad():
        y = enc.linear(enc.output_layer_2(enc.body(enc.input_layer(x))))
    styles = y.view(14, -1)
    assert styles.shape == (14, 16), styles.shape
    np.save(os.path.join(out, 'preim3d-wplus-styles.npy'), styles.numpy().astype('<f4'))
    ckpt = {
        'state_dict': {'encoder.' + k: v for k, v in enc.state_dict().items()},
        'opts': {'encoder_type': 'WPlusEncoder', 'eg3d_generator': 'pretrained_models/ffhqrebalanced512-128.pth',
                 'n_styles': 14, 'stylegan_size': 256, 'start_from_latent_avg': True, 'input_nc': 3},
        'latent_avg': torch.randn(1, 14, 16, generator=torch.Generator().manual_seed(SEED + 2)),
    }
    torch.save(ckpt, os.path.join(out, 'preim3d-wplus.pt'))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
