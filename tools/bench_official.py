#!/usr/bin/env python3
"""The official EG3D forward, for same-run speed ratios (scripts/bench-vs-official.sh drives it).

  PYTHONPATH=<NVlabs/eg3d>/eg3d python3 tools/bench_official.py build OUT.pkl [--seed 0]
  PYTHONPATH=<NVlabs/eg3d>/eg3d python3 tools/bench_official.py time OUT.pkl [--frames 3] [--warmup 1] [--threads 2]

build: a full-width ffhq512-128 generator made by the official code as eg3d/train.py --cfg=ffhq assembles it
  for 512x512 data (TriPlaneGenerator, SuperresolutionHybrid8XDC, map-depth 2, --gen_pose_cond=True,
  sr_num_fp16_res 4, g_num_fp16_res 0 -> conv_clamp None; docs/models.md and train.py of NVlabs/eg3d), seeded
  init, written as training/training_loop.py writes network-snapshot-*.pkl (a dict whose 'G_ema' is
  deepcopy(G).eval().requires_grad_(False).cpu()). Only G_ema is stored: `avatarize models import` reads only it.
time: loads G_ema with the official unpickler (legacy._LegacyUnpickler, what legacy.load_network_pkl runs before it
  checks that G and D are there too; load not timed) and times the whole
  forward, mapping + synthesis (G(z, c) with a new z and camera each frame, noise_mode 'const'), in PyTorch on the
  CPU with --threads threads. Prints one line: official_frame_ms=MEDIAN frames=N threads=T.
"""
import argparse
import copy
import math
import pickle
import statistics
import time

import torch


def build(out, seed):
    import dnnlib
    torch.manual_seed(seed)
    rendering = {
        'image_resolution': 512, 'disparity_space_sampling': False, 'clamp_mode': 'softplus',
        'superresolution_module': 'training.superresolution.SuperresolutionHybrid8XDC',
        'c_gen_conditioning_zero': False, 'gpc_reg_prob': 0.5, 'c_scale': 1, 'superresolution_noise_mode': 'none',
        'density_reg': 0.25, 'density_reg_p_dist': 0.004, 'reg_type': 'l1', 'decoder_lr_mul': 1, 'sr_antialias': True,
        # --cfg=ffhq
        'depth_resolution': 48, 'depth_resolution_importance': 48, 'ray_start': 2.25, 'ray_end': 3.3,
        'box_warp': 1, 'avg_camera_radius': 2.7, 'avg_camera_pivot': [0, 0, 0.2],
    }
    # train.py's defaults: --cbase 32768 --cmax 512, z and w 512, --map-depth 2.
    G = dnnlib.util.construct_class_by_name(
        class_name='training.triplane.TriPlaneGenerator', z_dim=512, w_dim=512, c_dim=25, img_resolution=512,
        img_channels=3, channel_base=32768, channel_max=512, mapping_kwargs={'num_layers': 2},
        fused_modconv_default='inference_only', rendering_kwargs=rendering, num_fp16_res=0, sr_num_fp16_res=4,
        sr_kwargs={'channel_base': 32768, 'channel_max': 512, 'fused_modconv_default': 'inference_only'},
        conv_clamp=None)
    G.neural_rendering_resolution = 128
    with open(out, 'wb') as f:
        pickle.dump({'G_ema': copy.deepcopy(G).eval().requires_grad_(False).cpu()}, f)


def camera(yaw, pitch):
    from camera_utils import LookAtPoseSampler
    cam2world = LookAtPoseSampler.sample(math.pi / 2 + yaw, math.pi / 2 + pitch,
                                         torch.tensor([0, 0, 0.2]), radius=2.7)
    # FFHQ's intrinsics (focal 4.2647 in units of the image width, centre 0.5): eg3d/gen_samples.py.
    intrinsics = torch.tensor([[4.2647, 0, 0.5], [0, 4.2647, 0.5], [0, 0, 1]])
    return torch.cat([cam2world.reshape(-1, 16), intrinsics.reshape(-1, 9)], 1)


@torch.no_grad()
def time_forward(pkl, frames, warmup, threads):
    import dnnlib
    import legacy
    torch.set_num_threads(threads)
    with dnnlib.util.open_url(pkl) as f:
        G = legacy._LegacyUnpickler(f).load()['G_ema'].eval()
    gen = torch.Generator().manual_seed(1)
    times = []
    for i in range(warmup + frames):
        z = torch.randn(1, G.z_dim, generator=gen)
        yaw, pitch = (torch.rand(2, generator=gen) - 0.5).tolist()
        c = camera(0.5 * yaw, 0.3 * pitch)
        t0 = time.perf_counter()
        G(z, c, truncation_psi=0.7, noise_mode='const')
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    print(f'official_frame_ms={1000 * statistics.median(times):.1f} frames={frames} threads={threads}', flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build')
    b.add_argument('out')
    b.add_argument('--seed', type=int, default=0)
    t = sub.add_parser('time')
    t.add_argument('pkl')
    t.add_argument('--frames', type=int, default=3)
    t.add_argument('--warmup', type=int, default=1)
    t.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    if a.cmd == 'build':
        build(a.out, a.seed)
    else:
        time_forward(a.pkl, a.frames, a.warmup, a.threads)


if __name__ == '__main__':
    main()
