#!/usr/bin/env python3
"""Same-run timing of GOAE's official inversion at full width, on the CPU (a developer tool, not CI):

  python3 tools/bench_goae_official.py build <jiangyzy/GOAE checkout> OUT_DIR
      writes OUT_DIR/encoder_FFHQ.pt and OUT_DIR/afa_FFHQ.pt (random weights at the released widths, in the released
      bare state-dict layouts: Swin-V2 embed 128, depths 2/2/18/2, heads 4/8/16/32, window 16, pretrained windows
      12/12/12/6 as configs/swinv2.yaml; AFA as models/afa.py) and OUT_DIR/inputs.safetensors ('image' [1, 3, 256, 256],
      'input_512' [1, 3, 512, 512], 'c' [1, 25], 'mask_blur_sigmas' [2]) for `avatarize encoder --repeats`
  THREADS=2 python3 tools/bench_goae_official.py time <GOAE checkout> PKL OUT_DIR RUNS
      times Net.forward (training/goae.py: encoder, W render, AFA, render, mix fusion), model loading excluded, with
      PKL (a full-width EG3D pickle made with the official code: tools/bench_official.py build) as the generator;
      prints one line per run, and writes the last run's outputs ('ws', 'image', 'image_w', 'mask') to
      OUT_DIR/official.safetensors

The classes are the official ones; tools/make_goae_fixture.py holds the shared steps (stubs for timm and
torchvision's GaussianBlur, the generator loader, deterministic ray sampling, cameras).
"""
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'shared', 'fixtures', 'checkpoints'))
import make_goae_fixture as fx  # noqa: E402
import stio  # noqa: E402


def setup(repo, sigmas):
    sys.path.insert(0, os.path.join(os.path.abspath(repo), 'goae'))
    fx.stub_modules(sigmas)


def released_encoder():
    from training import goae
    from models import swin_transformer as swin
    saved = goae.build_model
    goae.build_model = lambda cfg: swin.SwinTransformer(
        img_size=256, patch_size=4, in_chans=3, num_classes=1000, embed_dim=128, depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32], window_size=16, mlp_ratio=4., qkv_bias=True, drop_rate=0., drop_path_rate=0.2,
        ape=False, patch_norm=True, use_checkpoint=False, pretrained_window_sizes=[12, 12, 12, 6])
    try:
        return goae.GOAEncoder(swin_config=None, mlp_layer=2, stage_list=[10000, 20000, 30000])
    finally:
        goae.build_model = saved


def main():
    mode, repo = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(os.environ.get('THREADS', os.cpu_count())))
    if mode == 'build':
        out = sys.argv[3]
        os.makedirs(out, exist_ok=True)
        setup(repo, [])
        from models.afa import AFA
        torch.manual_seed(41)
        enc = fx.perturb(released_encoder(), torch.Generator().manual_seed(42))
        afa = fx.perturb(AFA(), torch.Generator().manual_seed(43))
        torch.save(enc.state_dict(), os.path.join(out, 'encoder_FFHQ.pt'))
        torch.save(afa.state_dict(), os.path.join(out, 'afa_FFHQ.pt'))
        x256 = fx.grid(3, 256, lambda i, j, c: 0.9 * torch.sin(0.05 * i + 0.07 * j + c))
        x512 = fx.grid(3, 512, lambda i, j, c: 0.8 * torch.sin(0.031 * i - 0.043 * j + 0.9 * c))
        stio.save(os.path.join(out, 'inputs.safetensors'), {
            'image': x256.numpy(), 'input_512': x512.numpy(), 'c': fx.camera(0.25, -0.1).numpy(),
            'mask_blur_sigmas': torch.tensor(fx.SIGMAS).numpy()})
        return
    pkl, out, runs = sys.argv[3], sys.argv[4], int(sys.argv[5])
    sigmas = []
    setup(repo, sigmas)
    from training import goae
    from models.afa import AFA
    from torchvision import transforms
    fx.deterministic_rays()
    net = goae.Net.__new__(goae.Net)
    torch.nn.Module.__init__(net)
    net.decoder = fx.build_generator(pkl)
    net.encoder = released_encoder()
    net.encoder.load_state_dict(torch.load(os.path.join(out, 'encoder_FFHQ.pt'), map_location='cpu'))
    net.afa = AFA()
    net.afa.load_state_dict(torch.load(os.path.join(out, 'afa_FFHQ.pt'), map_location='cpu'))
    net.start_from_latent_avg = True
    net.w_avg = net.decoder.backbone.mapping.w_avg[None, None, :]
    net.face_pool = torch.nn.AdaptiveAvgPool2d((256, 256))
    net.device = torch.device('cpu')
    net.gauss_kernel_0 = transforms.GaussianBlur(9, sigma=(1, 2))
    net.gauss_kernel_1 = transforms.GaussianBlur(9, sigma=(1, 2))
    net.eval()
    io = stio.load(os.path.join(out, 'inputs.safetensors'))
    x, x512, c = (torch.from_numpy(io[k]) for k in ('image', 'input_512', 'c'))
    with torch.no_grad():
        for r in range(runs):
            sigmas.extend(fx.SIGMAS)
            t = time.perf_counter()
            d, dw = net(x, c, x512, return_latents=True)
            print('official forward %d: %.1f ms' % (r + 1, (time.perf_counter() - t) * 1000), flush=True)
    # The last run's outputs, for comparing with `avatarize encoder`'s at full width.
    stio.save(os.path.join(out, 'official.safetensors'), {
        'ws': d['rec_ws'].numpy(), 'image': d['image'].numpy(), 'image_w': dw['image'].numpy(),
        'mask': d['mask'][0, 0].numpy()})


if __name__ == '__main__':
    main()
