#!/usr/bin/env python3
"""Convert an official EG3D generator pickle (ffhq512-128.pkl and the like) into an avatarize model bundle.

Run it with your EG3D checkout's `eg3d/` folder on PYTHONPATH (the pickle refers to its `dnnlib`,
`torch_utils` and `training` modules), and PyTorch installed:

    PYTHONPATH=/path/to/eg3d/eg3d python3 tools/convert_eg3d.py ffhq512-128.pkl models/ffhq512-128 \
        --role source-generator --style photo

The bundle folder gets:
  weights.safetensors  the generator's state dict (G_ema), official key names, float32;
  model.json           what the model is and the hyper-parameters that tensor shapes cannot tell
                       (rendering range and samples, lr multipliers, conv clamps, noise modes, camera).

Only the loading half needs EG3D; the writing half (`write_bundle`) takes a plain state dict and is what
avatarize's tests exercise.
"""
import argparse
import json
import os
import struct
import sys


def _tensor_bytes(t):
    """float32, C-contiguous, little-endian bytes and the shape of a torch tensor or numpy array."""
    try:
        import torch
        if isinstance(t, torch.Tensor):
            t = t.detach().to("cpu", torch.float32).contiguous()
            return t.numpy().astype("<f4", copy=False).tobytes(), list(t.shape)
    except ImportError:
        pass
    import numpy as np
    a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
    return a.tobytes(), list(a.shape)


def write_safetensors(tensors, path, metadata=None):
    """Writes {name: tensor} as a safetensors file (F32, keys sorted, header padded to 8 bytes)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        data, shape = _tensor_bytes(tensors[name])
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


REQUIRED_PREFIXES = ("backbone.mapping.", "backbone.synthesis.b4.", "decoder.net.", "superresolution.block0.")


def write_bundle(state_dict, out_dir, manifest):
    """Writes weights.safetensors (official key names, unchanged) and model.json into out_dir."""
    keys = list(state_dict)
    missing = [p for p in REQUIRED_PREFIXES if not any(k.startswith(p) for k in keys)]
    if missing:
        raise ValueError("state dict is not an EG3D TriPlaneGenerator: no keys under " + ", ".join(missing))
    os.makedirs(out_dir, exist_ok=True)
    manifest = dict(manifest)
    manifest.setdefault("kind", "eg3d-generator")
    write_safetensors(state_dict, os.path.join(out_dir, "weights.safetensors"),
                      metadata={"format": "avatarize eg3d-generator", "source": manifest.get("provenance", "")})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return os.path.join(out_dir, "weights.safetensors")


def manifest_from_generator(G, name, role, style, source, license_text):
    """model.json fields read off a loaded TriPlaneGenerator (training/triplane.py)."""
    rk = dict(getattr(G, "rendering_kwargs", {}))
    if rk.get("ray_start") == "auto" or rk.get("ray_end") == "auto":
        raise ValueError("auto ray ranges (ShapeNet-style configs) are not supported; FFHQ/AFHQ models are")
    if rk.get("disparity_space_sampling", False):
        raise ValueError("disparity-space sampling is not supported")
    if rk.get("clamp_mode", "softplus") != "softplus":
        raise ValueError("clamp_mode %r is not supported (softplus is)" % rk.get("clamp_mode"))
    if type(G.superresolution).__name__ != "SuperresolutionHybrid8XDC":
        raise ValueError("super-resolution %s is not supported (SuperresolutionHybrid8XDC is)" % type(G.superresolution).__name__)
    sr_clamp = G.superresolution.block0.conv1.conv_clamp
    bb_clamp = G.backbone.synthesis.b4.conv1.conv_clamp
    arch = {
        "mapping_lr_multiplier": float(G.backbone.mapping.fc0.bias_gain),
        "c_scale": float(rk.get("c_scale", 1.0)) * (0.0 if rk.get("c_gen_conditioning_zero", False) else 1.0),
        "decoder_lr_multiplier": float(rk.get("decoder_lr_mul", 1.0)),
        "neural_rendering_resolution": int(G.neural_rendering_resolution),
        "backbone_conv_clamp": None if bb_clamp is None else float(bb_clamp),
        "superresolution_conv_clamp": None if sr_clamp is None else float(sr_clamp),
        "backbone_noise_mode": "const",
        "superresolution_noise_mode": rk.get("superresolution_noise_mode", "none"),
        "rendering": {
            "ray_start": float(rk["ray_start"]),
            "ray_end": float(rk["ray_end"]),
            "depth_resolution": int(rk["depth_resolution"]),
            "depth_resolution_importance": int(rk["depth_resolution_importance"]),
            "box_warp": float(rk["box_warp"]),
            "white_back": bool(rk.get("white_back", False)),
        },
    }
    return {
        "kind": "eg3d-generator",
        "name": name,
        "role": role,
        "style": style,
        "architecture": arch,
        "camera": {
            "focal": 4.2647,
            "radius": float(rk.get("avg_camera_radius", 2.7)),
            "pivot": [float(v) for v in rk.get("avg_camera_pivot", [0, 0, 0.2])],
        },
        "truncation_psi": 0.7,
        "truncation_cutoff": 14,
        "provenance": "converted from %s by tools/convert_eg3d.py" % os.path.basename(source),
        "license": license_text,
    }


def load_generator(pkl_path):
    """G_ema from an official pickle; needs EG3D's modules importable."""
    try:
        import legacy  # EG3D's legacy.py, handles older pickles
        import dnnlib
        with dnnlib.util.open_url(pkl_path) as f:
            return legacy.load_network_pkl(f)["G_ema"]
    except ImportError:
        import pickle
        with open(pkl_path, "rb") as f:
            return pickle.load(f)["G_ema"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pickle", help="official EG3D network pickle (e.g. ffhq512-128.pkl)")
    ap.add_argument("out", help="bundle folder to write")
    ap.add_argument("--name", help="model name (default: the pickle's file name)")
    ap.add_argument("--role", default="source-generator", choices=["source-generator", "style-generator"])
    ap.add_argument("--style", default="photo", help="style name (photo, caricature, pixar, cartoon, comic, …)")
    ap.add_argument("--license", default="NVIDIA Source Code License for EG3D (non-commercial)",
                    help="licence text recorded in model.json")
    args = ap.parse_args(argv)
    try:
        G = load_generator(args.pickle)
    except ImportError as e:
        sys.exit("cannot unpickle %s (%s): put your EG3D checkout's eg3d/ folder on PYTHONPATH" % (args.pickle, e))
    name = args.name or os.path.splitext(os.path.basename(args.pickle))[0]
    manifest = manifest_from_generator(G, name, args.role, args.style, args.pickle, args.license)
    path = write_bundle(G.state_dict(), args.out, manifest)
    print("wrote %s (%d tensors) and model.json" % (path, len(G.state_dict())))


if __name__ == "__main__":
    main()
