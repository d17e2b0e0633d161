#!/usr/bin/env python3
"""Direction files in PREIM3D's published format, for the direction reader's tests
(Tests/CheckpointsTests/Fixtures/direction-*.pt, each with a .npy of the same values beside it):

  python3 tools/make_direction_fixtures.py Tests/CheckpointsTests/Fixtures

PREIM3D (mybabyyh/Preim3D) publishes editings/interfacegan_directions/inversion/*.pt: each torch.save(tensor) of a
float32 [1, 7168] of unit norm, which its scripts/inference.py loads with torch.load and reshapes to (14, 512).
- direction-preim3d.pt: that layout (torch.save's default zip format), values from torch.Generator seed 7, unit norm;
- direction-legacy.pt: a [512] direction in the legacy format (_use_new_zipfile_serialization=False);
- direction-dict.pt: {'direction': [2, 512]} (a mapping holding one tensor, as some projects save them);
- direction-two.pt: {'a': ..., 'b': ...}, which the reader refuses (which one would it be?);
- direction-w16.pt: PREIM3D's layout for the 14 x 16 W+ of the 1/32-width fixtures (eg3d-nrr128.pkl, preim3d-wplus.pt).
"""
import os
import sys

import numpy as np
import torch


def main(out):
    g = torch.Generator().manual_seed(7)
    t = torch.randn(1, 7168, generator=g)
    t = t / t.norm()
    torch.save(t, os.path.join(out, 'direction-preim3d.pt'))
    np.save(os.path.join(out, 'direction-preim3d.npy'), t.numpy())
    u = torch.randn(512, generator=g)
    torch.save(u, os.path.join(out, 'direction-legacy.pt'), _use_new_zipfile_serialization=False)
    np.save(os.path.join(out, 'direction-legacy.npy'), u.numpy())
    v = torch.randn(2, 512, generator=g)
    torch.save({'direction': v}, os.path.join(out, 'direction-dict.pt'))
    np.save(os.path.join(out, 'direction-dict.npy'), v.numpy())
    torch.save({'a': u, 'b': u}, os.path.join(out, 'direction-two.pt'))
    small = torch.randn(1, 14 * 16, generator=g)
    torch.save(small / small.norm(), os.path.join(out, 'direction-w16.pt'))


if __name__ == '__main__':
    main(sys.argv[1])
