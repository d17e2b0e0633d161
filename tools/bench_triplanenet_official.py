#!/usr/bin/env python3
"""Same-run timing of TriPlaneNet v2's official forward at full width, on the CPU (a developer tool, not CI):

  python3 tools/bench_triplanenet_official.py build <triplanenet> <eg3d> PKL OUT_DIR
      writes OUT_DIR/triplanenet-v2-random.pt (random weights at full width in the released checkpoint layout,
      nearest upsampling as its training default), OUT_DIR/eg3d.pth (PKL converted to the file TriPlaneNet loads) and
      OUT_DIR/inputs.safetensors ('image' [1, 3, 256, 256], 'c' [1, 25]) for `avatarize encoder --repeats`
  python3 tools/bench_triplanenet_official.py time <triplanenet> OUT_DIR RUNS
      times TriPlaneNet.forward (models/triplanenet_v2.py, depth samples doubled as scripts/inference_v2.py does),
      model loading excluded; prints one line per run

PKL is a full-width EG3D pickle made with the official code (tools/bench_official.py build). The classes are the
official ones; tools/make_triplanenet_fixture.py holds the shared steps (stubs, conversion, cameras).
"""
import os
import sys
import time
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'shared', 'fixtures', 'checkpoints'))
import make_triplanenet_fixture as fx  # noqa: E402
import stio  # noqa: E402


def build_net(repo, pth, ckpt_path=None):
    sys.path.insert(0, os.path.abspath(repo))
    fx.stub_modules()
    from configs import paths_config
    import models.triplanenet_v2 as module
    paths_config.model_paths['eg3d_ffhq'] = pth
    module.model_paths['eg3d_ffhq'] = pth
    opts = types.SimpleNamespace(n_styles=14, use_pixelshuffle=False, device='cpu', checkpoint_path=ckpt_path)
    net = module.TriPlaneNet.__new__(module.TriPlaneNet)
    torch.nn.Module.__init__(net)
    net.opts = opts
    torch.manual_seed(31)
    net.set_psp_encoder()
    net.set_triplane_encoder()
    net.set_eg3d_generator()
    if ckpt_path:
        net.load_weights()
    net.decoder.rendering_kwargs['depth_resolution'] *= 2
    net.decoder.rendering_kwargs['depth_resolution_importance'] *= 2
    return net.eval()


def main():
    mode, repo = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(os.environ.get('THREADS', os.cpu_count())))
    if mode == 'build':
        eg3d, pkl, out = sys.argv[3], sys.argv[4], sys.argv[5]
        os.makedirs(out, exist_ok=True)
        pth = os.path.join(out, 'eg3d.pth')
        gen = fx.convert_generator(eg3d, pkl, pth)
        net = build_net(repo, pth)
        g = torch.Generator().manual_seed(32)
        fx.perturb(net.psp_encoder, g)
        fx.perturb(net.triplanenet_encoder, g)
        state = {'psp_encoder.' + k: v for k, v in net.psp_encoder.state_dict().items()}
        state.update({'triplanenet_encoder.' + k: v for k, v in net.triplanenet_encoder.state_dict().items()})
        for k in ('backbone.mapping.w_avg', 'decoder.net.0.bias'):
            state['decoder.' + k] = gen['G_ema'][k].clone()
        torch.save({'state_dict': state, 'opts': {'n_styles': 14, 'use_pixelshuffle': False}, 'step': 0},
                   os.path.join(out, 'triplanenet-v2-random.pt'))
        x = fx.grid(3, 256, lambda i, j, c: 0.9 * torch.sin(0.05 * i + 0.07 * j + c))
        stio.save(os.path.join(out, 'inputs.safetensors'), {'image': x.numpy(), 'c': fx.camera(0.25, -0.1).numpy()})
    else:
        out, runs = sys.argv[3], int(sys.argv[4])
        net = build_net(repo, os.path.join(out, 'eg3d.pth'), os.path.join(out, 'triplanenet-v2-random.pt'))
        io = stio.load(os.path.join(out, 'inputs.safetensors'))
        x, c = torch.from_numpy(io['image']), torch.from_numpy(io['c'])
        with torch.no_grad():
            for r in range(runs):
                t = time.perf_counter()
                net(x, c, fx.flip_yaw(c), novel_view_camera_params=None, x_mirror=torch.flip(x, [3]))
                print('official forward %d: %.1f ms' % (r + 1, (time.perf_counter() - t) * 1000), flush=True)


if __name__ == '__main__':
    main()
