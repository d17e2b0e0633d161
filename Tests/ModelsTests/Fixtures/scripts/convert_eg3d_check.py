#!/usr/bin/env python3
"""Checks the writing half of tools/convert_eg3d.py with PyTorch: a state dict built from the eg3d
fixture is written as a bundle and read back. Usage: convert_eg3d_check.py FIXTURE_WEIGHTS TOOLS_DIR OUT_DIR
Exit 0 on success; the Swift test ConverterScriptTests then loads OUT_DIR as a bundle."""
import json
import os
import struct
import sys

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[8 + n + b:8 + n + end]), dtype=torch.float32)
        out[name] = t.reshape(e["shape"]).clone()
    return out, header


class SuperresolutionHybrid8XDC:  # named like the real class: the converter checks the type's name
    def __init__(self):
        self.block0 = type("B", (), {"conv1": type("L", (), {"conv_clamp": 256})()})()


def fake_generator(state):
    """An object with the attributes manifest_from_generator reads off a TriPlaneGenerator."""
    g = type("G", (), {})()
    g.rendering_kwargs = {"ray_start": 2.25, "ray_end": 3.3, "depth_resolution": 48, "depth_resolution_importance": 48,
                          "box_warp": 1, "c_scale": 1.0, "c_gen_conditioning_zero": False, "decoder_lr_mul": 1.0,
                          "superresolution_noise_mode": "none", "clamp_mode": "softplus",
                          "avg_camera_radius": 2.7, "avg_camera_pivot": [0, 0, 0.2]}
    g.superresolution = SuperresolutionHybrid8XDC()
    g.backbone = type("BB", (), {})()
    g.backbone.synthesis = type("S", (), {"b4": type("B4", (), {"conv1": type("L", (), {"conv_clamp": None})()})()})()
    g.backbone.mapping = type("M", (), {"fc0": type("FC", (), {"bias_gain": 0.01})()})()
    g.neural_rendering_resolution = 128
    g.state_dict = lambda: state
    return g


def main():
    fixture, tools, out = sys.argv[1:4]
    sys.path.insert(0, tools)
    import convert_eg3d

    state, _ = read_safetensors(fixture)
    # Include a non-contiguous view: the writer must store values, not raw strides.
    state["decoder.net.0.weight"] = state["decoder.net.0.weight"].t().contiguous().t()
    g = fake_generator(state)
    manifest = convert_eg3d.manifest_from_generator(g, "fixture", "style-generator", "cartoon", "fixture.pkl", "test")
    path = convert_eg3d.write_bundle(g.state_dict(), out, manifest)

    back, header = read_safetensors(path)
    assert set(back) == set(state), set(back) ^ set(state)
    for k, v in state.items():
        assert list(back[k].shape) == list(v.shape), k
        assert torch.equal(back[k], v.float()), k
    assert header["__metadata__"]["format"] == "avatarize eg3d-generator"
    with open(os.path.join(out, "model.json")) as f:
        m = json.load(f)
    assert m["kind"] == "eg3d-generator" and m["role"] == "style-generator", m
    assert m["architecture"]["mapping_lr_multiplier"] == 0.01
    assert m["architecture"]["superresolution_conv_clamp"] == 256.0
    assert m["architecture"]["backbone_conv_clamp"] is None
    assert m["architecture"]["rendering"]["depth_resolution_importance"] == 48
    try:
        convert_eg3d.write_bundle({"foo.weight": torch.zeros(1)}, out + "-bad", manifest)
        raise AssertionError("a non-EG3D state dict was accepted")
    except ValueError:
        pass
    print("convert_eg3d writing half: OK (%d tensors)" % len(back))


if __name__ == "__main__":
    main()
