#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (Fuzz/corpus/Fuzz<Name>/): one or two small, valid
inputs a format, so that libFuzzer starts from files the parsers accept and mutates them from there.
Standard library only. Run from the repository root: python3 tools/make_parser_fuzz_seeds.py (the checkpoint targets' seeds
come from tools/make_fuzz_seeds.py, which needs torch)."""
import json
import math
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes)."""
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def floats(values, fmt="<f"):
    return b"".join(struct.pack(fmt, v) for v in values)


def npy(descr, shape, raw, version=1):
    dims = "(%s)" % ("%d," % shape[0] if len(shape) == 1 else ", ".join(map(str, shape)))
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    pre = 10 if version == 1 else 12
    text += " " * (-(pre + len(text) + 1) % 64) + "\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text.encode() + raw


# dlib serialisation (dlib/serialize.h): integers are a control byte (byte count, bit 7 = sign) and the
# magnitude little-endian; floats a mantissa and an exponent as two such integers.
def dint(v):
    mag, out = abs(v), b""
    while True:
        out += bytes([mag & 0xFF])
        mag >>= 8
        if mag == 0:
            break
    return bytes([len(out) | (0x80 if v < 0 else 0)]) + out


def dfloat(v):
    m, e = math.frexp(v)
    return dint(int(m * (1 << 53))) + dint(e - 53)


def dcolumn(values):
    return dint(-len(values)) + dint(-1) + b"".join(dfloat(v) for v in values)


def predictor(depth):
    """A 4-landmark predictor: one cascade level of two trees of the given depth."""
    shape = [0.2, 0.3, 0.8, 0.3, 0.5, 0.6, 0.5, 0.8]
    out = dint(1) + dcolumn(shape) + dint(1) + dint(2)
    splits = 2 ** depth - 1
    for t in range(2):
        out += dint(splits)
        for s in range(splits):
            out += dint(s % 3) + dint((s + 1) % 3) + dfloat(10.0 * (s + t) - 5)
        out += dint(splits + 1)
        for leaf in range(splits + 1):
            out += dcolumn([0.01 * (leaf - t)] * len(shape))
    out += dint(1) + dint(3) + dint(0) + dint(1) + dint(3)  # anchors of the 3 feature points
    out += dint(1) + dint(3) + dfloat(0.05) + dfloat(-0.1) + dfloat(0.0) + dfloat(0.02) + dfloat(-0.03) + dfloat(0.1)
    return out


def cascade(trees_per_stage, splits):
    """An OpenCV traincascade file: stages of `splits`-node trees over a few Haar features."""
    features = [
        "<_><rects><_>2 3 8 4 -1.</_><_>2 5 8 2 2.</_></rects></_>",
        "<_><rects><_>1 1 6 9 -1.</_><_>3 1 2 9 3.</_></rects></_>",
        "<_><rects><_>4 6 12 6 -1.</_><_>4 8 12 2 3.</_></rects></_>",
        "<_><rects><_>0 0 4 4 -1.</_><_>2 0 2 2 2.</_><_>0 2 2 2 2.</_></rects></_>",
    ]
    stages = []
    for si, trees in enumerate(trees_per_stage):
        weak = []
        for t in range(trees):
            nodes, leaves = [], []
            for k in range(splits):
                # OpenCV's encoding: left/right > 0 is the next node, <= 0 the leaf -value.
                left = k + 1 if k + 1 < splits else -k
                right = -(k + 1) if k + 1 < splits else -(k + 1)
                nodes.append("%d %d %d %.6f" % (left, right, (si + t + k) % len(features), 0.004 * (t - k)))
            leaves = " ".join("%.4f" % (0.3 * (-1) ** i + 0.1 * t) for i in range(splits + 1))
            weak.append("<_><internalNodes>%s</internalNodes><leafValues>%s</leafValues></_>" % (" ".join(nodes), leaves))
        stages.append("<_><maxWeakCount>%d</maxWeakCount><stageThreshold>%.4f</stageThreshold><weakClassifiers>%s"
                      "</weakClassifiers></_>" % (trees, -0.5 * trees, "".join(weak)))
    return ("<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">"
            "<stageType>BOOST</stageType><featureType>HAAR</featureType><height>20</height><width>20</width>"
            "<stageParams><maxWeakCount>%d</maxWeakCount></stageParams><featureParams><maxCatCount>0</maxCatCount>"
            "<featSize>1</featSize></featureParams><stageNum>%d</stageNum><stages>%s</stages><features>%s</features>"
            "</cascade>\n</opencv_storage>\n" % (max(trees_per_stage), len(stages), "".join(stages), "".join(features)))


def measured_faces():
    """Two frames of MeasuredFaceFile's format (Sources/Faces/MeasuredFaceFile.swift): a face, then none."""
    landmarks = 68
    record_size = 16 + 8 + 8 + 32 + landmarks * 16 + 20 * 8
    header = b"AVZFACE1" + struct.pack("<IIII", 1, record_size, landmarks, 0) + struct.pack("<QQ", 2, 1)
    header += b"\0" * (64 - len(header))
    face = bytes([1 | 2 | 4 | 8, 0]) + b"\0" * 6 + struct.pack("<d", 0.04)
    face += struct.pack("<qd", 1, 0.04) + struct.pack("<4q", 10, 12, 90, 100)
    face += floats([40 + (k % 17) * 2.5 for k in range(2 * landmarks)], "<d")
    face += floats([50, 55, 30, 1, -1, 30, 0.1, -0.05, 0.02, 0.3] * 2, "<d")
    none = bytes([2, 0]) + b"\0" * 6 + struct.pack("<d", 0.08)
    none += b"\0" * (record_size - len(none))
    return header + face + none


def latent_track(frames=2, num_ws=2, w_dim=4):
    """A tiny latent track (Sources/Pipeline/LatentTrack.swift): safetensors plus the avatarize header."""
    n = frames
    meta = {"format": "avatarize-latent-track/2", "model": "demo@0", "numWs": num_ws, "wDim": w_dim, "count": n,
            "facesFound": n,
            "source": {"path": "clip.mp4", "fileSize": 1000, "contentHash": "00" * 32, "width": 64, "height": 64,
                       "frameRate": {"num": 25, "den": 1}, "timeBase": {"num": 1, "den": 12800}, "start": 0,
                       "duration": 0.08}}
    tensors = {
        "codes": ("F32", [n, num_ws, w_dim], floats([0.1 * i for i in range(n * num_ws * w_dim)])),
        "cameras": ("F32", [n, 25], floats([1.0] * (25 * n))),
        "face_found": ("F32", [n], floats([1.0] * n)),
        "landmarks": ("F32", [n, 68, 2], floats([32.0] * (136 * n))),
        "pts": ("I64", [n], b"".join(struct.pack("<q", 512 * i) for i in range(n))),
        "quads": ("F32", [n, 4, 2], floats([16, 16, 48, 16, 48, 48, 16, 48] * n)),
        "times": ("F32", [n], floats([0.04 * i for i in range(n)])),
    }
    return safetensors(tensors, {"avatarize": json.dumps(meta)})


def main():
    put("FuzzSafeTensors", "mixed", safetensors({
        "a": ("F32", [2, 3], floats(range(6))), "b": ("F16", [3], b"\x00\x3c\x00\xc0\xff\x7b"),
        "c": ("BF16", [2], b"\x80\x3f\x00\x40"), "d": ("I64", [1], struct.pack("<q", -7)), "e": ("F32", [0], b"")},
        {"format": "pt"}))
    put("FuzzSafeTensors", "scalar", safetensors({"s": ("F32", [], floats([1.5]))}))
    put("FuzzNumpy", "f4-2x3", npy("<f4", [2, 3], floats(range(6))))
    put("FuzzNumpy", "f8-v2", npy("<f8", [3], floats([1, 2, 3], "<d"), version=2))
    put("FuzzNumpy", "f4-14x512", npy("<f4", [14, 2], floats([0.5] * 28)))
    put("FuzzHaarCascade", "stumps", cascade([3, 2], 1))
    put("FuzzHaarCascade", "trees", cascade([2, 2], 2))
    put("FuzzDlibPredictor", "depth1", predictor(1))
    put("FuzzDlibPredictor", "depth2", predictor(2))
    put("FuzzMeasuredFaces", "two-frames", measured_faces())
    put("FuzzLatentTrack", "two-frames", latent_track())
    put("FuzzModelManifest", "full", json.dumps({
        "kind": "eg3d-generator", "name": "ffhq512-128", "role": "source-generator", "style": "photo",
        "architecture": {"neural_rendering_resolution": 128, "superresolution_conv_clamp": 256, "c_scale": 1,
                         "backbone_noise_mode": "const", "rendering": {"ray_start": 2.25, "ray_end": 3.3,
                                                                        "depth_resolution": 48, "white_back": False}},
        "camera": {"focal": 4.2647, "radius": 2.7, "pivot": [0, 0, 0.2]},
        "truncation_psi": 0.7, "truncation_cutoff": 14, "provenance": "seed", "license": "seed"}, indent=1))
    put("FuzzModelManifest", "minimal", '{"kind": "eg3d-generator"}')
    put("FuzzEncoderManifest", "e4e", json.dumps({
        "kind": "e4e-encoder", "architecture": "Encoder4Editing", "backbone": "ir_se50", "style_count": 14,
        "w_dim": 512, "input_size": 256, "source": "e4e.pt", "latent_avg": "inside"}))
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "jobs.yaml")) as f:
        put("FuzzJobFile", "sample.yaml", f.read())
    put("FuzzJobFile", "segments.json", json.dumps({
        "kind": "avatar", "inputs": ["a.mp4", "clips/*.mov"], "output": "out/{clip}-{style}.mp4",
        "output_root": "out", "priority": 5, "max_attempts": 2, "segment_seconds": 10,
        "settings": [{"style": "sketch", "edits": {"Smiling": 1.5}, "smoothing": "ema:0.5", "camera": "frontal",
                      "layout": "avatar"}]}, indent="\t"))
    put("FuzzJobFile", "transcode.yaml", "kind: transcode\ninputs: x.mp4\noutput: '{clip}.mp4'\nsettings: [{style: identity}]\n")


if __name__ == "__main__":
    main()
