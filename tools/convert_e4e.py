#!/usr/bin/env python3
"""Convert an e4e / PREIM3D encoder checkpoint (.pt) into an avatarize encoder bundle.

    python3 tools/convert_e4e.py CHECKPOINT.pt -o BUNDLE_DIR [--latent-avg FILE]

Writes BUNDLE_DIR/weights.safetensors (float32, the official omertov/encoder4editing key names of the
Encoder4Editing module, plus `latent_avg` as [styles, w]) and BUNDLE_DIR/model.json.

What it accepts:
  * an e4e / pSp training checkpoint: {"state_dict": {"encoder.…": …, "decoder.…": …}, "latent_avg": …,
    "opts": …}; the `encoder.` prefix is removed and every other module (decoder, discriminator) dropped;
  * a PREIM3D checkpoint (same layout, 14 styles). PREIM3D does not store `latent_avg`: its pSp wrapper
    computes it when loading, as the mean of EG3D's mapping(z, c_frontal, truncation_psi=0.7) over
    10,000 z from numpy RandomState(123). Pass that tensor with --latent-avg (a .npy or .pt holding
    [styles, w], [1, styles, w] or [w]);
  * a bare encoder state dict (keys `input_layer.…`, `body.…`, `styles.…`), optionally `module.`-prefixed.

Loading a .pt runs Python's unpickler. The checkpoint is first read with torch.load(weights_only=True);
only --trust-pickle allows a full unpickle, for checkpoints from a source you trust.

The writing half (`write_bundle`) needs only numpy; reading a .pt needs torch.
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np

# Key-prefix renames, applied in order (first match only); the Swift loader
# (Sources/Models/Encoder/EncoderWeights.swift) applies the same table.
KEY_RENAMES = [("module.encoder.", ""), ("encoder.", ""), ("module.", "")]
# Top-level modules of Encoder4Editing; anything else in a checkpoint belongs to another network.
ENCODER_MODULES = ("input_layer.", "body.", "styles.", "latlayer1.", "latlayer2.")
# Layout of get_blocks(50): the number of bottleneck_IR_SE units.
BODY_UNITS = 24


class ConversionError(Exception):
    pass


def official_name(key):
    for old, new in KEY_RENAMES:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def to_numpy(value, name):
    """A torch tensor or array-like as a float32 C-contiguous numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().float().numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ConversionError(f"tensor '{name}' has dtype {arr.dtype}, expected a number type")
    return np.ascontiguousarray(arr, dtype=np.float32)


def encoder_state(ckpt):
    """Splits a checkpoint into (encoder tensors by official name, dropped keys, latent_avg or None)."""
    if not isinstance(ckpt, dict):
        raise ConversionError(f"checkpoint is a {type(ckpt).__name__}, expected a dict (a state dict or a training checkpoint)")
    latent_avg = ckpt.get("latent_avg")
    state = ckpt.get("state_dict", ckpt)
    if not isinstance(state, dict):
        raise ConversionError("checkpoint['state_dict'] is not a dict")
    has_prefix = any(k.startswith(("encoder.", "module.encoder.")) for k in state)
    tensors, dropped = {}, []
    for key, value in state.items():
        if key in ("latent_avg", "opts"):
            continue
        if not hasattr(value, "shape"):
            dropped.append(key)
            continue
        if has_prefix and not key.startswith(("encoder.", "module.encoder.")):
            dropped.append(key)
            continue
        name = official_name(key)
        if not name.startswith(ENCODER_MODULES):
            dropped.append(key)
            continue
        if name in tensors:
            raise ConversionError(f"two checkpoint keys map to '{name}'")
        tensors[name] = to_numpy(value, key)
    if latent_avg is None and "latent_avg" in state:
        latent_avg = state["latent_avg"]
    return tensors, dropped, latent_avg


def style_count(tensors):
    ids = {int(m.group(1)) for k in tensors if (m := re.match(r"styles\.(\d+)\.", k))}
    return max(ids) + 1 if ids else 0


def check_layout(tensors):
    """Light checks with clear messages; the Swift loader checks every tensor and shape."""
    problems = []
    for key in ("input_layer.0.weight", f"body.{BODY_UNITS - 1}.res_layer.3.weight", "styles.0.linear.weight",
                "latlayer1.weight", "latlayer2.weight"):
        if key not in tensors:
            problems.append(f"missing {key}")
    extra_units = sorted({int(m.group(1)) for k in tensors if (m := re.match(r"body\.(\d+)\.", k)) and int(m.group(1)) >= BODY_UNITS})
    if extra_units:
        problems.append(f"body units {extra_units} beyond IR-SE50's {BODY_UNITS} (IR-100/152 encoders are not supported)")
    if problems:
        raise ConversionError("not an Encoder4Editing (IR-SE50) state dict: " + "; ".join(problems))


def normalise_latent_avg(latent_avg, styles, w_dim, source):
    arr = to_numpy(latent_avg, "latent_avg")
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 1:
        arr = np.repeat(arr[None, :], styles, axis=0)
    if arr.ndim != 2 or arr.shape[1] != w_dim:
        raise ConversionError(f"latent_avg from {source} has shape {list(np.shape(latent_avg))}; expected [{styles}, {w_dim}], [1, {styles}, {w_dim}] or [{w_dim}]")
    if arr.shape[0] != styles:
        raise ConversionError(f"latent_avg from {source} holds {arr.shape[0]} styles, the encoder {styles}")
    return np.ascontiguousarray(arr)


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors in the safetensors format (keys sorted, header padded to 8 bytes)."""
    header, offset, names = {}, 0, sorted(tensors)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in names:
        arr = tensors[name]
        if arr.dtype != np.float32:
            raise ConversionError(f"tensor '{name}' is {arr.dtype}; write_safetensors stores float32")
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    blob = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name in names:
            f.write(tensors[name].astype("<f4", copy=False).tobytes(order="C"))
    os.replace(tmp, path)


def write_bundle(out_dir, tensors, latent_avg, source="", latent_avg_source=""):
    """The writing half: encoder tensors (official names, numpy) + latent_avg → weights.safetensors, model.json."""
    check_layout(tensors)
    styles = style_count(tensors)
    w_dim = int(tensors["styles.0.linear.weight"].shape[0])
    if latent_avg is None:
        raise ConversionError(
            "no latent_avg: the checkpoint does not hold one (PREIM3D computes it from the EG3D generator when "
            "loading); pass it with --latent-avg FILE (.npy or .pt, [styles, w])")
    out = dict(tensors)
    out["latent_avg"] = normalise_latent_avg(latent_avg, styles, w_dim, latent_avg_source or "the checkpoint")
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "weights.safetensors"), out,
                      metadata={"format": "avatarize-e4e", "source": source})
    manifest = {
        "kind": "e4e-encoder",
        "architecture": "Encoder4Editing",
        "backbone": "ir_se50",
        "style_count": styles,
        "w_dim": w_dim,
        "input_size": 256,
        "source": source,
        "latent_avg": latent_avg_source or "checkpoint",
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def load_checkpoint(path, trust_pickle):
    import torch  # only the reading half needs torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # weights_only refuses arbitrary pickled objects (e.g. argparse.Namespace opts)
        if not trust_pickle:
            raise ConversionError(
                f"{path}: torch.load(weights_only=True) failed ({error}); if you trust this file, rerun with --trust-pickle")
        return torch.load(path, map_location="cpu", weights_only=False)


def load_latent_avg(path, trust_pickle):
    if path.endswith(".npy"):
        return np.load(path)
    value = load_checkpoint(path, trust_pickle)
    if isinstance(value, dict):
        for key in ("latent_avg", "w_avg"):
            if key in value:
                return value[key]
        raise ConversionError(f"{path}: no 'latent_avg' or 'w_avg' entry")
    return value


def main(argv=None):
    p = argparse.ArgumentParser(description="Convert an e4e / PREIM3D encoder checkpoint to an avatarize bundle.")
    p.add_argument("checkpoint", help="e4e / PREIM3D checkpoint (.pt) or bare encoder state dict")
    p.add_argument("-o", "--output", required=True, help="bundle folder to write (model.json + weights.safetensors)")
    p.add_argument("--latent-avg", help="latent average (.npy or .pt) when the checkpoint lacks one (PREIM3D)")
    p.add_argument("--trust-pickle", action="store_true", help="allow a full unpickle of a trusted checkpoint")
    args = p.parse_args(argv)
    try:
        ckpt = load_checkpoint(args.checkpoint, args.trust_pickle)
        tensors, dropped, latent_avg = encoder_state(ckpt)
        source = "checkpoint"
        if args.latent_avg:
            latent_avg, source = load_latent_avg(args.latent_avg, args.trust_pickle), os.path.basename(args.latent_avg)
        manifest = write_bundle(args.output, tensors, latent_avg, source=os.path.basename(args.checkpoint),
                                latent_avg_source=source)
    except (ConversionError, OSError) as error:
        print(f"convert_e4e: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {len(tensors)} encoder tensors + latent_avg, {manifest['style_count']} styles, "
          f"w {manifest['w_dim']}; dropped {len(dropped)} non-encoder keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
