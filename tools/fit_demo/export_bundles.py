"""Writes the fitted demo family as avatarize bundles (model.json + weights.safetensors, official key names) into
Sources/Models/DemoModels/, and the W directions (one per head parameter, the columns of S·A as 10 × 32 floats)
into directions/demo/.  python3 export_bundles.py --work /tmp/fit --repo ../..
`--encoder-only` writes the encoder bundle alone (WORK/encoder.pt), leaving the generators and directions as they are."""
import argparse
import json
import os

import numpy as np
import torch

import demo_family as D
import head_field as H
import st_io

ARCH = {"neural_rendering_resolution": 128, "superresolution_noise_mode": "none", "backbone_noise_mode": "const",
        "rendering": {"depth_resolution": 16, "depth_resolution_importance": 16, "ray_start": 2.25, "ray_end": 3.3, "box_warp": 1}}
LICENSE = "fitted by avatarize's tools/fit_demo to a procedural head; no third-party material"
# The version written into each bundle's weights: the one it was last fitted at (DemoModelFamily.version is the
# newest of them), so that exporting again leaves unchanged bundles byte-identical.
GENERATOR_TAG = "demo-v4-fitted"
ENCODER_TAG = "demo-v6-fitted"
STYLES = {"caricature": "exaggerated nose and chin (early-layer styles), warmer skin",
          "poster": "flat poster colours: saturated, quantised",
          "sketch": "pencil-on-paper greys"}


def generator_tensors(P):
    out = {}
    for k, v in P.items():
        if k.startswith("superresolution") and ("noise_const" in k or "noise_strength" in k):
            continue
        out[k] = v.detach().numpy().astype(np.float32)
    return out


def write_bundle(folder, manifest, tensors):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    st_io.save(tensors, os.path.join(folder, "weights.safetensors"), {"format": "pt", "avatarize": GENERATOR_TAG})


def save_npy(path, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (tuple(a.shape),)
    header += " " * ((64 - (len(header) + 11) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1"))
        f.write(a.tobytes())


def write_encoder(work, root):
    enc = torch.load(os.path.join(work, "encoder.pt"), weights_only=False)
    manifest = {"kind": "e4e-encoder", "architecture": "Encoder4Editing", "backbone": "ir_se50", "style_count": 10,
                "w_dim": 32, "input_size": 256, "name": "demo-encoder",
                "source": "tools/fit_demo/fit_readout.py: IR-SE50 units 0-20 as in demo-v5; the rest an exactly linear chain "
                          f"({enc['iter']} iterations) reproducing a ridge readout of those features, fitted on augmented aligned "
                          "crops of real talking-head clips and stills (talking-laugh-512 held out), targets measured from their 68 "
                          "landmarks (face_params.py); styles 1-9 zero (one w)", "license": LICENSE}
    os.makedirs(os.path.join(root, "encoder"), exist_ok=True)
    with open(os.path.join(root, "encoder", "model.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    st_io.save({k: v.detach().numpy() for k, v in enc["P"].items()}, os.path.join(root, "encoder", "weights.safetensors"),
               {"format": "pt", "avatarize": ENCODER_TAG})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--encoder-only", action="store_true")
    a = ap.parse_args()
    root = os.path.join(a.repo, "Sources", "Models", "DemoModels")
    write_encoder(a.work, root)
    if a.encoder_only:
        return
    src = torch.load(os.path.join(a.work, "source.pt"), weights_only=False)
    P = src["P"]
    base = {"kind": "eg3d-generator", "architecture": ARCH, "truncation_psi": 0.7, "truncation_cutoff": 14,
            "license": LICENSE}
    m = dict(base, name="demo-source", role="source-generator", style="cartoon",
             description="avatarize demo source generator: a cartoon head fitted to tools/fit_demo/head_field.py "
                         "(not trained on faces); W = w_avg + S·A·p, see directions/demo",
             provenance="tools/fit_demo: fit_planes.py (tri-plane features and decoder, %d iterations), fit_backbone.py (the conv stack reproduces them)" % src["iter"])
    write_bundle(os.path.join(root, "source"), m, generator_tensors(P))
    for name, desc in STYLES.items():
        path = os.path.join(a.work, f"{name}.pt")
        if not os.path.exists(path):
            print("no", path)
            continue
        st = torch.load(path, weights_only=False)
        # Styles share W with the source: the same mapping network (fitted last, on the source).
        for k in P:
            if k.startswith("backbone.mapping"):
                st["P"][k] = P[k]
        m = dict(base, name=f"demo-{name}", role="style-generator", style=name,
                 description=f"avatarize demo style '{name}' ({desc}); same W space as demo-source",
                 provenance=f"tools/fit_demo/fit_generator.py --style {name}, fine-tuned from demo-source for {st['iter']} iterations",
                 camera={"focal": 4.2647, "radius": 2.7, "pivot": [0, 0.05, 0.17]})
        write_bundle(os.path.join(root, f"style-{name}"), m, generator_tensors(st["P"]))
    ddir = os.path.join(a.repo, "directions", "demo")
    os.makedirs(ddir, exist_ok=True)
    _, AS = D.w_layout()
    names = {"blink_left": "blink_left", "blink_right": "blink_right"}
    for k, name in enumerate(H.PARAMS):
        save_npy(os.path.join(ddir, f"{names.get(name, name)}.npy"), np.tile(AS[:, k].numpy()[None], (10, 1)))
    # Both eyes at once.
    save_npy(os.path.join(ddir, "blink.npy"), np.tile((AS[:, 2] + AS[:, 3]).numpy()[None], (10, 1)))


if __name__ == "__main__":
    main()
