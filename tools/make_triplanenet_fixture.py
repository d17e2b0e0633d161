#!/usr/bin/env python3
"""TriPlaneNet checkpoints in the released layouts (v1 and v2), at a reduced width, and the official forwards'
outputs, for the importer's and the refiner's parity tests (Tests/CheckpointsTests/Fixtures/):

  python3 tools/make_triplanenet_fixture.py <anantarb/triplanenet checkout> Tests/CheckpointsTests/Fixtures <NVlabs/eg3d checkout>

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
'opts': {...}, 'best_val_loss', 'step'} (torch.save's zip format). decoder.* holds the generator (eg3d-nrr128.pkl's
G_ema) in v1, whose loader is strict, and two of its tensors in v2 (the released files hold the whole generator,
which the importer ignores).

Then the whole official forward (models/triplanenet.py, triplanenet_v2.py TriPlaneNet.forward) on the 256x256 input
with eg3d-nrr128.pkl as the generator, converted to the file TriPlaneNet loads (NVIDIA's loader, then
{'init_kwargs', 'G_ema', 'latent_avg': w_avg}), depth samples doubled as the inference scripts do, deterministic ray
sampling as the other fixtures: <name>.ws [14, 16] and <name>.image [3, 256, 256] (y_hat resized, as TriPlaneNet
returns it), for triplanenet-v1 and triplanenet-v2-upsample; c and c_mirror (flip_yaw of c) [25]; the mirror input is
the input flipped left-right.

  python3 tools/make_triplanenet_fixture.py <triplanenet checkout> Tests/CheckpointsTests/Fixtures <NVlabs/eg3d checkout>
Inputs (float32, computed the same way by the Swift tests):
  styles:  x[0, c, i, j] = 0.9 sin(0.05 i + 0.07 j + c)                      (3 x 256 x 256)
  refiner: x[0, c, i, j] = 0.8 sin(0.11 i - 0.05 j + 0.7 c)                  (6 or 9 x 32 x 32)
           planes[0, c, i, j] = 0.5 cos(0.09 i + 0.13 j + 0.3 c)             (96 x 32 x 32, v2 only)
"""
import math
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


def deterministic_sampling(renderer_module):
    """The fixtures' ray sampling, made deterministic in an EG3D renderer module (each project keeps its own copy of
    EG3D's volumetric_rendering/renderer.py): mid-bin coarse depths, sample_pdf(det=True)."""
    cls = renderer_module.ImportanceRenderer
    orig_sample_pdf = cls.sample_pdf

    def midbin(self, ray_origins, ray_start, ray_end, depth_resolution, disparity_space_sampling=False):
        N, M, _ = ray_origins.shape
        depths = torch.linspace(ray_start, ray_end, depth_resolution).reshape(1, 1, depth_resolution, 1).repeat(N, M, 1, 1)
        return depths + 0.5 * (ray_end - ray_start) / (depth_resolution - 1)
    cls.sample_stratified = midbin
    cls.sample_pdf = lambda self, b, w, n, det=False, eps=1e-5: orig_sample_pdf(self, b, w, n, det=True, eps=eps)


def grid(channels, side, f):
    i = torch.arange(side, dtype=torch.float32).view(1, side, 1)
    j = torch.arange(side, dtype=torch.float32).view(1, 1, side)
    c = torch.arange(channels, dtype=torch.float32).view(channels, 1, 1)
    return f(i, j, c).unsqueeze(0).contiguous()


def main(repo, out, generator=None):
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
        if generator is not None:  # the released files hold the (frozen) generator the network was trained with
            # v1's loader is strict (every decoder.* tensor must be there); v2's is not, so two stand for the rest.
            keys = generator['G_ema'].keys() if version == 1 else ('backbone.mapping.w_avg', 'decoder.net.0.bias')
            for k in keys:
                state['decoder.' + k] = generator['G_ema'][k].clone()
        opts_saved = {'n_styles': 14, 'use_pixelshuffle': pixelshuffle, 'device': 'cuda:0', 'batch_size': 4,
                      'checkpoint_path': None, 'exp_dir': 'experiment'}
        ckpt = {'state_dict': state, 'opts': opts_saved, 'best_val_loss': 0.123, 'step': 500000}
        torch.save(ckpt, os.path.join(out, name + '.pt'))
    stio.save(os.path.join(out, 'triplanenet-io.safetensors'), io)


CONVERT = r"""
import sys, torch, dnnlib, legacy
with dnnlib.util.open_url(sys.argv[1]) as f:
    G = legacy._LegacyUnpickler(f).load()['G_ema']  # legacy.load_network_pkl's reader; a G_ema-only pickle is enough
def plain(v):
    return {k: plain(x) for k, x in v.items()} if isinstance(v, dict) else v
kw = plain(dict(G.init_kwargs))
# TriPlaneNet's copy of EG3D lives under models.eg3d, not training.
kw['rendering_kwargs']['superresolution_module'] = kw['rendering_kwargs']['superresolution_module'].replace('training.', 'models.eg3d.')
torch.save({'init_kwargs': kw, 'G_ema': G.state_dict(),
            'latent_avg': G.backbone.mapping.w_avg.clone()}, sys.argv[2])
"""


def convert_generator(eg3d_src, pkl, pth):
    """The EG3D file TriPlaneNet loads (configs/paths_config.py 'eg3d_ffhq': {'init_kwargs', 'G_ema', 'latent_avg'}),
    made from the network pickle with NVIDIA's own loader; latent_avg is the mapping network's w_avg."""
    import subprocess
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.abspath(eg3d_src), 'eg3d'))
    subprocess.run([sys.executable, '-c', CONVERT, pkl, pth], check=True, env=env)
    return torch.load(pth, map_location='cpu')


def official_forward(name, version, pixelshuffle, pth, ckpt_path, x, c, c_mirror):
    """TriPlaneNet's own forward (models/triplanenet*.py), built as scripts/inference*.py build it from the checkpoint
    (opts from the file, decoder from the EG3D file, weights loaded strict=False), depth samples doubled as the
    inference scripts do, and the fixtures' deterministic ray sampling (mid-bin coarse depths, sample_pdf(det=True))."""
    from configs import paths_config
    from models.eg3d.volumetric_rendering import renderer as _renderer
    import importlib
    module = importlib.import_module('models.triplanenet' if version == 1 else 'models.triplanenet_v2')
    paths_config.model_paths['eg3d_ffhq'] = pth
    module.model_paths['eg3d_ffhq'] = pth
    deterministic_sampling(_renderer)

    opts = dict(torch.load(ckpt_path, map_location='cpu')['opts'])
    opts.update(device='cpu', checkpoint_path=ckpt_path)
    opts = types.SimpleNamespace(**opts)
    net = module.TriPlaneNet.__new__(module.TriPlaneNet)
    torch.nn.Module.__init__(net)
    net.opts = opts

    def build(psp, tv1, tv2):
        net.set_psp_encoder()
        for block in net.psp_encoder.styles:
            block.out_c = d(block.out_c)
        net.set_triplane_encoder()
    narrowed(build)
    # The fixture generator's super-resolution is narrowed as make_checkpoints.py narrows it (its widths hard-coded
    # 256 / 128 become the file's); everything else is built from init_kwargs.
    from models.eg3d import superresolution as srmod
    sd = torch.load(pth, map_location='cpu')
    width = {256: sd['G_ema']['superresolution.block0.conv0.weight'].shape[0], 128: sd['G_ema']['superresolution.block1.conv0.weight'].shape[0]}
    official_block = srmod.SynthesisBlock
    srmod.SynthesisBlock = lambda i, o, w_dim, **kw: official_block(width.get(i, i), width[o], w_dim=sd['init_kwargs']['w_dim'], **kw)
    try:
        net.set_eg3d_generator()
    finally:
        srmod.SynthesisBlock = official_block
    net.load_weights()
    net.decoder.rendering_kwargs['depth_resolution'] = int(net.decoder.rendering_kwargs['depth_resolution'] * 2)
    net.decoder.rendering_kwargs['depth_resolution_importance'] = int(net.decoder.rendering_kwargs['depth_resolution_importance'] * 2)
    net.eval()
    with torch.no_grad():
        if version == 1:
            y_hat, codes = net(x, c, resize=True, return_latents=True)
        else:
            out = net(x, c, c_mirror, novel_view_camera_params=None, x_mirror=torch.flip(x, [3]))
            y_hat, codes = out['y_hat_resized'], out['latent_codes']
    return y_hat[0], codes[0]


def camera(yaw, pitch):
    from models.eg3d.camera_utils import LookAtPoseSampler
    cam2world = LookAtPoseSampler.sample(math.pi / 2 + yaw, math.pi / 2 + pitch, torch.tensor([0, 0, 0.2]), radius=2.7)
    intr = torch.tensor([[4.2647, 0, 0.5], [0, 4.2647, 0.5], [0, 0, 1]], dtype=torch.float32)
    return torch.cat([cam2world.reshape(-1, 16), intr.reshape(-1, 9)], 1)


def flip_yaw(c):
    """datasets/dataset_v2.py flip_yaw on the cam2world part of a label."""
    m = c[:, :16].reshape(4, 4).clone()
    for i, j in ((0, 1), (0, 2), (1, 0), (2, 0), (0, 3)):
        m[i, j] *= -1
    return torch.cat([m.reshape(1, 16), c[:, 16:]], 1)


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'fixtures', 'checkpoints'))
    repo, out, eg3d_src = sys.argv[1], sys.argv[2], sys.argv[3]
    pth = os.path.join(out, '.eg3d-nrr128.pth')
    gen = convert_generator(eg3d_src, os.path.join(out, 'eg3d-nrr128.pkl'), pth)
    main(repo, out, gen)
    import stio
    io = stio.load(os.path.join(out, 'triplanenet-io.safetensors'))
    torch.set_num_threads(2)
    x = grid(3, 256, lambda i, j, ch: 0.9 * torch.sin(0.05 * i + 0.07 * j + ch))
    c = camera(0.25, -0.1)
    io['c'], io['c_mirror'] = c[0].numpy(), flip_yaw(c)[0].numpy()
    for name, version, pixelshuffle in (('triplanenet-v1', 1, False), ('triplanenet-v2-upsample', 2, False)):
        image, codes = official_forward(name, version, pixelshuffle, pth, os.path.join(out, name + '.pt'), x, c, flip_yaw(c))
        io[name + '.image'] = image.numpy().astype('<f4')
        io[name + '.ws'] = codes.numpy().astype('<f4')
    os.remove(pth)
    stio.save(os.path.join(out, 'triplanenet-io.safetensors'), io)
