#!/usr/bin/env python3
"""TriPlaneNet checkpoints in the released layouts (v1 and v2), at a reduced width, and the official forwards'
outputs, for the importer's and the refiner's parity tests (Tests/CheckpointsTests/Fixtures/):

  python3 tools/make_triplanenet_fixture.py <anantarb/triplanenet checkout> Tests/CheckpointsTests/Fixtures

Writes triplanenet-v1.pt, triplanenet-v2.pt, triplanenet-v2-upsample.pt (the v2 network without --use_pixelshuffle,
the training default) and triplanenet-io.safetensors with, per checkpoint, the official outputs:
  <name>.styles   the pSp GradualStyleEncoder's output [14, 16] for the 256x256 input below (before latent_avg)
  <name>.planes   the tri-plane encoder's output [96, 32, 32] for the 32x32 refiner input below
                  (v1: the offsets TriPlaneNet adds to the generator's planes; v2: the refined planes themselves)

The classes are the OFFICIAL ones (models/encoders/psp_encoders.py GradualStyleEncoder, triplane_encoders.py and
triplane_encoders_v2.py TriPlane_Encoder), built with every IR-SE50 / U-Net width divided by DIV (32) by rebinding
the constructors their __init__ calls while they are built. The tri-plane widths (96 = 3 x 32 channels of EG3D's
planes, and 120 = 96 + 24, 160 -> 96 + 2 for the concatenation with them) are not divided: they are fixed by the
generator. w is 512 / 32 = 16 with 14 styles: the W+ of eg3d-nrr128.pkl, the generator these import with.
The tri-plane encoder is fully convolutional, so its parity input is 32x32 (planes 32x32) to keep the fixture small;
the network is the same at 256x256.
Weights: torch.manual_seed init, then BatchNorm statistics and affine parameters, PReLU slopes and EqualLinear
biases moved off their defaults (seeded), so that every tensor matters.
Saved as TriPlaneNet's coaches save: {'state_dict': {'psp_encoder.*', 'triplanenet_encoder.*', 'decoder.*'},
'opts': {...}, 'best_val_loss', 'step'} (torch.save's zip format); decoder.* holds two of the generator's tensors
here (the released files hold the whole EG3D generator, which the importer ignores).
Inputs (float32, computed the same way by the Swift tests):
  styles:  x[0, c, i, j] = 0.9 sin(0.05 i + 0.07 j + c)                      (3 x 256 x 256)
  refiner: x[0, c, i, j] = 0.8 sin(0.11 i - 0.05 j + 0.7 c)                  (6 or 9 x 32 x 32)
           planes[0, c, i, j] = 0.5 cos(0.09 i + 0.13 j + 0.3 c)             (96 x 32 x 32, v2 only)
"""
import os
import sys
import types

import numpy as np
import torch

DIV = 32
DIVIDED = {64, 128, 224, 256, 384, 512, 768, 1024, 192}
SPECIAL = {160: 96 + 64 // DIV}  # v2 without pixel shuffle: cat(planes 96, up5's 64) -> 96 + 2


def stub_modules():
    op = types.ModuleType('models.stylegan2.op')

    def unused(*a, **k):
        raise RuntimeError('models.stylegan2.op stub: the encoder forward does not use it')
    op.FusedLeakyReLU, op.fused_leaky_relu, op.upfirdn2d = unused, unused, unused
    sys.modules['models.stylegan2.op'] = op
    # triplane_encoders_v2 imports torchvision's resnet34 and never uses it.
    tv = types.ModuleType('torchvision')
    tvm = types.ModuleType('torchvision.models')
    tvm.resnet34 = unused
    tv.models = tvm
    sys.modules.setdefault('torchvision', tv)
    sys.modules.setdefault('torchvision.models', tvm)


def d(c):
    if c in SPECIAL:
        return SPECIAL[c]
    return c // DIV if c in DIVIDED else c


def se(c):
    return c // 16 if c // 16 >= 2 else c // 2


def narrowed(build):
    """Runs build() with the constructors of the encoder modules rebound to divided widths."""
    from models.encoders import helpers, psp_encoders, triplane_encoders, triplane_encoders_v2
    nn = torch.nn
    orig = {'Conv2d': nn.Conv2d, 'BatchNorm2d': nn.BatchNorm2d, 'PReLU': nn.PReLU}
    conv = lambda i, o, *a, **k: orig['Conv2d'](d(i), d(o), *a, **k)
    bn = lambda c, *a, **k: orig['BatchNorm2d'](d(c), *a, **k)
    prelu = lambda c, *a, **k: orig['PReLU'](d(c), *a, **k)

    def helper_conv(i, o, *a, **k):
        if 'kernel_size' in k:  # only SEModule's fc1 (c -> c // 16) and fc2 (c // 16 -> c) pass kernel_size=
            return orig['Conv2d'](i, se(i), *a, **k) if i > o else orig['Conv2d'](se(o), o, *a, **k)
        return orig['Conv2d'](i, o, *a, **k)

    saved_blocks = helpers.get_blocks
    blocks = lambda num_layers: [[helpers.Bottleneck(d(b.in_channel), d(b.depth), b.stride) for b in block]
                        for block in saved_blocks(num_layers)]
    patches = [(psp_encoders, 'Conv2d', conv), (psp_encoders, 'BatchNorm2d', bn), (psp_encoders, 'PReLU', prelu),
               (psp_encoders, 'EqualLinear', None), (psp_encoders, 'get_blocks', blocks),
               (triplane_encoders, 'Conv2d', conv), (triplane_encoders, 'BatchNorm2d', bn), (triplane_encoders, 'PReLU', prelu),
               (triplane_encoders, 'get_blocks', blocks),
               (triplane_encoders_v2, 'Conv2d', conv), (triplane_encoders_v2, 'BatchNorm2d', bn), (triplane_encoders_v2, 'PReLU', prelu),
               (triplane_encoders_v2, 'get_blocks', blocks),
               (nn, 'Conv2d', conv), (nn, 'BatchNorm2d', bn), (nn, 'PReLU', prelu),
               (helpers, 'Conv2d', helper_conv)]
    saved_eq = psp_encoders.EqualLinear
    saved = [(m, n, getattr(m, n)) for m, n, _ in patches]
    for m, n, v in patches:
        setattr(m, n, v if v is not None else (lambda i, o, *a, **k: saved_eq(d(i), d(o), *a, **k)))
    try:
        return build(psp_encoders, triplane_encoders, triplane_encoders_v2)
    finally:
        for m, n, v in saved:
            setattr(m, n, v)


def perturb(net, g):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(1 + 0.1 * torch.randn(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
            elif isinstance(m, torch.nn.PReLU):
                m.weight.copy_(0.25 + 0.05 * torch.randn(m.weight.shape, generator=g))
            elif type(m).__name__ == 'EqualLinear':
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return net.eval()


def grid(channels, side, f):
    i = torch.arange(side, dtype=torch.float32).view(1, side, 1)
    j = torch.arange(side, dtype=torch.float32).view(1, 1, side)
    c = torch.arange(channels, dtype=torch.float32).view(channels, 1, 1)
    return f(i, j, c).unsqueeze(0).contiguous()


def main(repo, out):
    sys.path.insert(0, os.path.abspath(repo))
    stub_modules()
    import stio  # noqa: E402  (../shared/fixtures/checkpoints/stio.py)
    x256 = grid(3, 256, lambda i, j, c: 0.9 * torch.sin(0.05 * i + 0.07 * j + c))
    planes = grid(96, 32, lambda i, j, c: 0.5 * torch.cos(0.09 * i + 0.13 * j + 0.3 * c))
    io = {}
    variants = [('triplanenet-v1', 1, False, 21), ('triplanenet-v2', 2, True, 22), ('triplanenet-v2-upsample', 2, False, 23)]
    for name, version, pixelshuffle, seed in variants:
        opts = types.SimpleNamespace(n_styles=14, use_pixelshuffle=pixelshuffle, device='cpu')

        def build(psp, tv1, tv2):
            torch.manual_seed(seed)
            p = psp.GradualStyleEncoder(50, 'ir_se', opts)
            for block in p.styles:  # GradualStyleBlock keeps its width for x.view(-1, out_c)
                block.out_c = d(block.out_c)
            t = tv1.TriPlane_Encoder() if version == 1 else tv2.TriPlane_Encoder(opts)
            return p, t
        p, t = narrowed(build)
        g = torch.Generator().manual_seed(seed + 100)
        perturb(p, g)
        perturb(t, g)
        channels = 6 if version == 1 else 9
        xr = grid(channels, 32, lambda i, j, c: 0.8 * torch.sin(0.11 * i - 0.05 * j + 0.7 * c))
        with torch.no_grad():
            styles = p(x256)[0]
            refined = t(xr) if version == 1 else t(xr, planes)
        assert styles.shape == (14, 16), styles.shape
        assert refined.shape == (1, 96, 32, 32), refined.shape
        io[name + '.styles'] = styles.numpy().astype('<f4')
        io[name + '.planes'] = refined[0].numpy().astype('<f4')
        state = {'psp_encoder.' + k: v for k, v in p.state_dict().items()}
        state.update({'triplanenet_encoder.' + k: v for k, v in t.state_dict().items()})
        state['decoder.backbone.mapping.w_avg'] = torch.zeros(16)
        state['decoder.decoder.net.0.bias'] = torch.zeros(64)
        opts_saved = {'n_styles': 14, 'use_pixelshuffle': pixelshuffle, 'device': 'cuda:0', 'batch_size': 4,
                      'checkpoint_path': None, 'exp_dir': 'experiment'}
        ckpt = {'state_dict': state, 'opts': opts_saved, 'best_val_loss': 0.123, 'step': 500000}
        torch.save(ckpt, os.path.join(out, name + '.pt'))
    stio.save(os.path.join(out, 'triplanenet-io.safetensors'), io)


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'fixtures', 'checkpoints'))
    main(sys.argv[1], sys.argv[2])
