#!/usr/bin/env python3
"""Goldens for the encoders' input resizes (Tests/ModelsTests/Fixtures/resize-goldens.safetensors):

  python3 tools/make_resize_goldens.py Tests/ModelsTests/Fixtures

PyTorch's F.interpolate with antialias=True implements PIL's antialiased bilinear and bicubic (a = -0.5) resampling
on float images (its kernels were ported from Pillow's Resample.c); PIL itself rounds each pass to 8 bits. Pillow is
not installed here, so the goldens are torch's float results, which the 8-bit path must match within one grey level
and the unrounded path within float rounding. The no-antialias bilinear is F.interpolate(antialias=False), what
torchvision's Resize did on tensors before 0.17 (TriPlaneNet's pipeline).
  image [3, 61, 47]: uint8 values from torch.manual_seed(7), stored as float
  <filter>.<h>x<w> [3, h, w] for filter in aa_bilinear, aa_bicubic, bilinear and sizes 23x31 (shrink), 30x23 (half
  with rounding), 90x70 (enlarge)
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'fixtures', 'checkpoints'))
import stio  # noqa: E402

torch.manual_seed(7)
image = torch.randint(0, 256, (3, 61, 47), dtype=torch.uint8).float()
io = {'image': image.numpy()}
for h, w in [(23, 31), (30, 23), (90, 70)]:
    x = image[None]
    io[f'aa_bilinear.{h}x{w}'] = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False, antialias=True)[0].numpy()
    io[f'aa_bicubic.{h}x{w}'] = F.interpolate(x, size=(h, w), mode='bicubic', align_corners=False, antialias=True)[0].numpy()
    io[f'bilinear.{h}x{w}'] = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False, antialias=False)[0].numpy()
stio.save(os.path.join(sys.argv[1], 'resize-goldens.safetensors'), {k: v.astype('<f4') for k, v in io.items()})
