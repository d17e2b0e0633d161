#!/usr/bin/env python3
"""GOAE checkpoints in the released layouts (jiangyzy/GOAE: encoder_FFHQ.pt and afa_FFHQ.pt, two bare state dicts),
at a reduced width, and the official forwards' outputs, for the importer's and the network's parity tests:

  python3 tools/make_goae_fixture.py <jiangyzy/GOAE checkout> Tests/CheckpointsTests/Fixtures

Writes goae-encoder.pt, goae-afa.pt and goae-io.safetensors. The generator is eg3d-nrr128.pkl from the same folder
(w 16, 14 styles, 16 channels at 32x32), loaded as GOAE's Net.set_generator loads it.

The classes are the OFFICIAL ones (goae/training/goae.py GOAEncoder and Net, models/swin_transformer.py,
models/afa.py AFA, models/attention.py CrossAttention, training/triplane.py TriPlaneGenerator). Widths are reduced by
building the official modules with smaller arguments:
  - Swin-V2 with embed 16, depths 2/2/2/2, heads 2/4/8/16, window 16, pretrained windows 12/12/12/6, on 256x256
    (so stage 1 has 4x4 shifted windows, stage 2 2x2, stages 3 and 4 one window each, as in the released network);
  - GOAEncoder's mappers rebuilt with the official get_mlp_layer / nn.Linear / CrossAttention at the reduced
    widths: every 1024 / 512 / 256 / 128 that is a Swin width becomes 8E / 4E / 2E / E, every 512 that is w
    becomes 16, the spatial mappers' hidden widths (512, 2048) become 32 and 16 (their ends, 64 / 256 / 1024 /
    4096 tokens, are kept: they are fixed by the 256x256 input), the cross-attentions are (16, 4 heads, 32);
  - AFA's IR-SE widths 64 / 128 / 256 become 16 / 32 / 64 (get_blocks_F), its 512 (the generator's channels at
    32x32) becomes 16, the cross-attentions (16, 4 heads, 32).
GOAEncoder.forward hard-codes torch.zeros(B, n, 512) for w; those zeros are made 16 wide (a proxy of the module's
`torch` that changes only that call). Everything else runs as released.
Two packages GOAE imports are not installed here and are replaced by the few functions it uses:
  - timm: DropPath (identity in eval), to_2tuple, trunc_normal_ (initialisation only);
  - torchvision.transforms.GaussianBlur(9, sigma=(1, 2)), which draws sigma at random on every call: the
    replacement takes the sigmas from a list (recorded in the fixture) and blurs as torchvision's gaussian_blur
    does (kernel exp(-x^2 / (2 sigma^2)) over x = -4..4, normalised, separable, reflect padding).
Weights: torch.manual_seed init, then every Linear / conv weight drawn at unit fan-in scale, biases, LayerNorm
affine parameters, logit scales (one head above the log(100) clamp), BatchNorm statistics and PReLU slopes moved
off their defaults (seeded), so that every tensor matters.

Inputs (float32, computed the same way by the Swift tests):
  x256[c, i, j] = 0.9 sin(0.05 i + 0.07 j + c)                 (3 x 256 x 256, the encoder's input)
  x512[c, i, j] = 0.8 sin(0.031 i - 0.043 j + 0.9 c)           (3 x 512 x 512, AFA's image)
  afa alone: rec[c, i, j] = 0.7 cos(0.029 i + 0.037 j + 0.5 c) (3 x 512 x 512, the W render)
             feature[c, i, j] = 0.6 sin(0.21 i - 0.17 j + 0.4 c) (16 x 32 x 32)
Outputs in goae-io.safetensors:
  encoder.ws [14, 16] and encoder.ws_base [14, 16]: GOAEncoder.forward (before w_avg);
  encoder.x_fine [4096, 16], x_mid [1024, 32], x_coarse [256, 64], x_query [128, 64], x_base [128, 64]: the Swin's;
  afa.out, afa.gamma, afa.beta [16, 32, 32]: AFA.forward(x512, rec, feature);
  net.c [25] (yaw 0.25, pitch -0.1), net.c_novel [25] (yaw -0.3, pitch 0.05), net.sigmas [2]: the blur sigmas;
  net.ws [14, 16], net.image_w, net.image [3, 512, 512], net.depth [128, 128], net.mask [256, 256]:
    Net.forward(x256, c, x512) (rec_img_dict_w['image'], rec_img_dict['image'] / 'image_depth' / 'mask');
  net.novel [3, 512, 512]: synthesis(ws, c_novel, triplane=mix_triplane, forward_triplane=True), as infer.py's
    multi-view renders the mixed tri-plane.
Ray sampling is deterministic as in the other fixtures (make_triplanenet_fixture.deterministic_sampling).
"""
import math
import os
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_triplanenet_fixture import deterministic_sampling, grid  # noqa: E402  (shared with the TriPlaneNet fixture)

E = 16          # Swin embed width (released 128)
W = 16          # w and the generator's channels at 32x32 (released 512), eg3d-nrr128.pkl's
SIGMAS = [1.3, 1.7]


def stub_modules(sigmas):
    nn = torch.nn
    timm = types.ModuleType('timm')
    tm = types.ModuleType('timm.models')
    tl = types.ModuleType('timm.models.layers')

    class DropPath(nn.Module):
        def __init__(self, p=0.):
            super().__init__()

        def forward(self, x):
            return x
    tl.DropPath = DropPath
    tl.to_2tuple = lambda x: tuple(x) if isinstance(x, (tuple, list)) else (x, x)
    tl.trunc_normal_ = lambda t, std=1., **k: nn.init.trunc_normal_(t, std=std)
    timm.models, tm.layers = tm, tl
    sys.modules.update({'timm': timm, 'timm.models': tm, 'timm.models.layers': tl})

    tv = types.ModuleType('torchvision')
    tt = types.ModuleType('torchvision.transforms')

    class GaussianBlur:
        def __init__(self, kernel_size, sigma=(0.1, 2.0)):
            self.k = kernel_size

        def __call__(self, img):
            s = sigmas.pop(0)
            half = (self.k - 1) * 0.5
            x = torch.linspace(-half, half, steps=self.k)
            pdf = torch.exp(-0.5 * (x / s).pow(2))
            k1 = pdf / pdf.sum()
            k2 = (k1[:, None] * k1[None, :]).to(img.dtype)
            c = img.shape[-3]
            x4 = img.reshape(1, c, img.shape[-2], img.shape[-1])
            x4 = torch.nn.functional.pad(x4, [self.k // 2] * 4, mode='reflect')
            out = torch.nn.functional.conv2d(x4, k2.expand(c, 1, self.k, self.k), groups=c)
            return out.reshape(img.shape)
    tt.GaussianBlur = GaussianBlur
    tv.transforms = tt
    sys.modules.update({'torchvision': tv, 'torchvision.transforms': tt})


class ZerosProxy:
    """GOAEncoder.forward's `torch`, with torch.zeros(B, n, 512) made w wide."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def zeros(*shape, **k):
        shape = list(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else list(shape)
        if shape and shape[-1] == 512:
            shape[-1] = W
        return torch.zeros(*shape, **k)


def perturb(net, g):
    nn = torch.nn
    with torch.no_grad():
        for name, m in net.named_modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) / math.sqrt(fan_in))
                if m.bias is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            elif isinstance(m, nn.MultiheadAttention):
                m.in_proj_weight.copy_(torch.randn(m.in_proj_weight.shape, generator=g) / math.sqrt(m.embed_dim))
                m.in_proj_bias.copy_(0.1 * torch.randn(m.in_proj_bias.shape, generator=g))
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(1 + 0.1 * torch.randn(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(0.25 + 0.05 * torch.randn(m.weight.shape, generator=g))
            elif type(m).__name__ == 'EqualConv2d':
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            elif type(m).__name__ == 'WindowAttention':
                h = m.num_heads
                m.logit_scale.copy_((math.log(10) + 0.4 * torch.randn(h, 1, 1, generator=g)))
                m.logit_scale[0, 0, 0] = math.log(150.0)  # above the clamp at log(100)
                m.q_bias.copy_(0.1 * torch.randn(m.q_bias.shape, generator=g))
                m.v_bias.copy_(0.1 * torch.randn(m.v_bias.shape, generator=g))
    return net.eval()


def build_encoder(seed):
    from training import goae
    from models import swin_transformer as swin
    from models.attention import CrossAttention
    nn = torch.nn
    small = lambda cfg: swin.SwinTransformer(img_size=256, patch_size=4, in_chans=3, num_classes=1000, embed_dim=E,
                                             depths=[2, 2, 2, 2], num_heads=[2, 4, 8, 16], window_size=16,
                                             mlp_ratio=4., qkv_bias=True, drop_rate=0., drop_path_rate=0.2,
                                             ape=False, patch_norm=True, use_checkpoint=False,
                                             pretrained_window_sizes=[12, 12, 12, 6])
    saved = goae.build_model
    goae.build_model = small
    torch.manual_seed(seed)
    try:
        enc = goae.GOAEncoder(swin_config=None, mlp_layer=2, stage_list=[10000, 20000, 30000])
    finally:
        goae.build_model = saved
    mlp = goae.get_mlp_layer
    lrelu = nn.LeakyReLU
    enc.mapper_base_channel = mlp(8 * E, W, 2)
    enc.mapper_query_channel_coarse = mlp(8 * E, W, 2)
    enc.mapper_query_channel_mid = mlp(8 * E, W, 2)
    enc.mapper_query_channel_fine = mlp(8 * E, W, 2)
    enc.mapper_coarse_channel = nn.Sequential(nn.Linear(4 * E, W), lrelu())
    enc.mapper_mid_channel = nn.Sequential(nn.Linear(2 * E, W), lrelu())
    enc.mapper_fine_channel = nn.Sequential(nn.Linear(E, 2 * E), lrelu(), nn.Linear(2 * E, W), lrelu())
    enc.mapper_coarse_to_mid_spatial = nn.Sequential(nn.Linear(256, 32), lrelu(), nn.Linear(32, 1024), lrelu())
    enc.mapper_mid_to_fine_spatial = nn.Sequential(nn.Linear(1024, 16), lrelu(), nn.Linear(16, 4096), lrelu())
    enc.cross_att_coarse = CrossAttention(W, 4, 2 * W, batch_first=True)
    enc.cross_att_mid = CrossAttention(W, 4, 2 * W, batch_first=True)
    enc.cross_att_fine = CrossAttention(W, 4, 2 * W, batch_first=True)
    goae.torch = ZerosProxy()
    return perturb(enc, torch.Generator().manual_seed(seed + 100))


def build_afa(seed):
    from models import afa as afamod
    from models.attention import CrossAttention
    nn = torch.nn
    saved = afamod.get_blocks_F
    afamod.get_blocks_F = lambda: [afamod.get_block_F(in_channel=16, depth=16, num_units=3),
                                   afamod.get_block_F(in_channel=16, depth=32, num_units=3),
                                   afamod.get_block_F(in_channel=32, depth=64, num_units=3)]
    torch.manual_seed(seed)
    try:
        a = afamod.AFA()
    finally:
        afamod.get_blocks_F = saved
    a.input_layer = nn.Sequential(nn.Conv2d(3, 16, (3, 3), 1, 1, bias=False), nn.BatchNorm2d(16), nn.PReLU(16))
    a.output_layer = nn.Sequential(afamod.EqualConv2d(64, W, 3, stride=1, padding=1, bias=True),
                                   afamod.ScaledLeakyReLU(0.2),
                                   afamod.EqualConv2d(W, W, 3, stride=1, padding=1, bias=True))
    a.norm_kv = nn.LayerNorm(W, elementwise_affine=False)
    a.norm_x = nn.LayerNorm(W, elementwise_affine=False)
    a.cross_att_gamma = CrossAttention(W, 4, 2 * W, batch_first=True)
    a.cross_att_beta = CrossAttention(W, 4, 2 * W, batch_first=True)
    return perturb(a, torch.Generator().manual_seed(seed + 100))


def build_generator(pkl):
    """Net.set_generator: NVIDIA's pickle reader, then GOAE's TriPlaneGenerator with the same init args and
    parameters. The fixture generator's super-resolution is narrowed as make_checkpoints.py narrows it."""
    import dnnlib
    import legacy
    from torch_utils import misc
    from training import superresolution as srmod
    from training.triplane import TriPlaneGenerator
    with dnnlib.util.open_url(pkl) as f:
        G = legacy._LegacyUnpickler(f).load()['G_ema']
    sd = G.state_dict()
    width = {256: sd['superresolution.block0.conv0.weight'].shape[0], 128: sd['superresolution.block1.conv0.weight'].shape[0]}
    official_block = srmod.SynthesisBlock
    srmod.SynthesisBlock = lambda i, o, w_dim, **kw: official_block(width.get(i, i), width[o], w_dim=G.init_kwargs['w_dim'], **kw)
    try:
        kw = dict(G.init_kwargs)
        rk = dict(kw['rendering_kwargs'])
        kw['rendering_kwargs'] = rk
        G_new = TriPlaneGenerator(*G.init_args, **kw).eval().requires_grad_(False)
    finally:
        srmod.SynthesisBlock = official_block
    misc.copy_params_and_buffers(G, G_new, require_all=True)
    G_new.neural_rendering_resolution = G.neural_rendering_resolution
    G_new.rendering_kwargs = G.rendering_kwargs
    return G_new


def deterministic_rays():
    from training.volumetric_rendering import renderer as _renderer
    deterministic_sampling(_renderer)


def camera(yaw, pitch):
    from camera_utils import LookAtPoseSampler
    cam2world = LookAtPoseSampler.sample(math.pi / 2 + yaw, math.pi / 2 + pitch, torch.tensor([0, 0, 0.2]), radius=2.7)
    intr = torch.tensor([[4.2647, 0, 0.5], [0, 4.2647, 0.5], [0, 0, 1]], dtype=torch.float32)
    return torch.cat([cam2world.reshape(-1, 16), intr.reshape(-1, 9)], 1)


def main(repo, out):
    sys.path.insert(0, os.path.join(os.path.abspath(repo), 'goae'))
    sigmas = list(SIGMAS)
    stub_modules(sigmas)
    import stio  # noqa: E402  (../shared/fixtures/checkpoints/stio.py)
    from training import goae
    torch.set_num_threads(2)
    enc = build_encoder(31)
    afa = build_afa(32)
    torch.save(enc.state_dict(), os.path.join(out, 'goae-encoder.pt'))
    torch.save(afa.state_dict(), os.path.join(out, 'goae-afa.pt'))

    x256 = grid(3, 256, lambda i, j, c: 0.9 * torch.sin(0.05 * i + 0.07 * j + c))
    x512 = grid(3, 512, lambda i, j, c: 0.8 * torch.sin(0.031 * i - 0.043 * j + 0.9 * c))
    rec = grid(3, 512, lambda i, j, c: 0.7 * torch.cos(0.029 * i + 0.037 * j + 0.5 * c))
    feature = grid(W, 32, lambda i, j, c: 0.6 * torch.sin(0.21 * i - 0.17 * j + 0.4 * c))
    io = {}
    with torch.no_grad():
        ws, ws_base = enc(x256)
        x_base, x_query, x_coarse, x_mid, x_fine = enc.swin_model(x256)
        io['encoder.ws'], io['encoder.ws_base'] = ws[0], ws_base[0]
        io['encoder.x_base'], io['encoder.x_query'] = x_base[0], x_query[0]
        io['encoder.x_coarse'], io['encoder.x_mid'], io['encoder.x_fine'] = x_coarse[0], x_mid[0], x_fine[0]
        adain, gamma, beta = afa(x512, rec, feature)
        io['afa.out'], io['afa.gamma'], io['afa.beta'] = adain[0], gamma[0], beta[0]

    deterministic_rays()
    net = goae.Net.__new__(goae.Net)
    torch.nn.Module.__init__(net)
    net.decoder = build_generator(os.path.join(out, 'eg3d-nrr128.pkl'))
    net.encoder = enc
    net.start_from_latent_avg = True
    net.w_avg = net.decoder.backbone.mapping.w_avg[None, None, :]
    net.afa = afa
    net.face_pool = torch.nn.AdaptiveAvgPool2d((256, 256))
    net.device = torch.device('cpu')
    from torchvision import transforms
    net.gauss_kernel_0 = transforms.GaussianBlur(9, sigma=(1, 2))
    net.gauss_kernel_1 = transforms.GaussianBlur(9, sigma=(1, 2))
    net.eval()
    c = camera(0.25, -0.1)
    c_novel = camera(-0.3, 0.05)
    with torch.no_grad():
        d, dw = net(x256, c, x512, return_latents=True)
        novel = net.decoder.synthesis(ws=d['rec_ws'], c=c_novel, triplane=d['mix_triplane'], forward_triplane=True,
                                      noise_mode='const')
    assert not sigmas, sigmas
    io.update({'net.c': c[0], 'net.c_novel': c_novel[0], 'net.sigmas': torch.tensor(SIGMAS),
               'net.ws': d['rec_ws'][0], 'net.image_w': dw['image'][0], 'net.image': d['image'][0],
               'net.depth': d['image_depth'][0, 0], 'net.mask': d['mask'][0, 0], 'net.novel': novel['image'][0]})
    for k, v in io.items():
        print(k, tuple(v.shape), float(v.abs().mean()))
    stio.save(os.path.join(out, 'goae-io.safetensors'), {k: v.contiguous().numpy().astype('<f4') for k, v in io.items()})


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'fixtures', 'checkpoints'))
    main(sys.argv[1], sys.argv[2])
