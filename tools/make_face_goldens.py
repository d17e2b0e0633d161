#!/usr/bin/env python3
"""Make the golden fixtures for Tests/FacesTests from the original implementations.

The Swift Faces module reimplements OpenCV's Haar-cascade `detectMultiScale` and dlib's 68-point
shape predictor. This script runs the originals (PyPI `opencv-python-headless` < 5, which still ships
the objdetect cascade classifier, and `dlib-bin`) on a few small images and writes what they return,
so the Swift tests compare against the real thing rather than against themselves.

Setup (once, offline after install):
    python3 -m venv /tmp/facesref
    /tmp/facesref/bin/pip install "opencv-python-headless<5" dlib-bin scikit-image numpy
    /tmp/facesref/bin/python tools/make_face_goldens.py

Inputs: scikit-image's `astronaut` (a NASA portrait of Eileen Collins, public domain) and images derived
from it (resized, mirrored, rotated onto a synthetic background). Models: Debian's `opencv-data`
cascades and `libdlib-data` predictor at their standard paths. Outputs (small, committed):
Tests/FacesTests/Fixtures/*.ppm and faces_goldens.json.
"""
import json
import os
import sys

import cv2
import dlib
import numpy as np
from skimage import data

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "FacesTests", "Fixtures")
CASCADES = "/usr/share/opencv4/haarcascades"
PREDICTOR = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
# detectMultiScale's own defaults (scaleFactor 1.1, minNeighbors 3, no min/max size).
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 3


def write_ppm(path, rgb):
    h, w, _ = rgb.shape
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())


def make_images():
    astro = data.astronaut()  # 512x512 RGB
    images = {}
    images["astronaut_320.ppm"] = cv2.resize(astro, (320, 320), interpolation=cv2.INTER_AREA)
    images["astronaut_mirror_256.ppm"] = cv2.resize(astro[:, ::-1], (256, 256), interpolation=cv2.INTER_AREA)
    # Rotated and shrunk onto a smooth synthetic background: a face away from the centre, tilted.
    rng = np.random.default_rng(4)
    h, w = 240, 360
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([60 + 0.3 * xx, 90 + 0.2 * yy, 140 - 0.1 * xx], axis=-1)
    bg = np.clip(bg + rng.normal(0, 6, bg.shape), 0, 255).astype(np.uint8)
    m = cv2.getRotationMatrix2D((256, 160), 12.0, 0.55)
    m[:, 2] += np.array([200 - 256, 110 - 160])
    warped = cv2.warpAffine(astro, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    mask = cv2.warpAffine(np.full(astro.shape[:2], 255, np.uint8), m, (w, h), flags=cv2.INTER_NEAREST)
    comp = np.where(mask[..., None] > 0, warped, bg)
    images["astronaut_tilted_360x240.ppm"] = comp
    return images


# The six-point head template of Sources/Faces/HeadPose.swift (dlib's mean shape, FFHQ-aligned, for
# x and y; the generic model's depths), rebuilt here so OpenCV's solvePnP can be run on the same problem.
TEMPLATE_IDX = [30, 8, 36, 45, 48, 54]
TEMPLATE_CROP = [(0.5, 0.614489), (0.5, 0.932437), (0.325934, 0.473694),
                 (0.674066, 0.473694), (0.388734, 0.738637), (0.611266, 0.738637)]
TEMPLATE_DEPTH = [0, -65, -135, -135, -125, -125]
FOCAL, RADIUS = 4.2647, 2.7


def template3d():
    unit = (TEMPLATE_CROP[3][0] - TEMPLATE_CROP[2][0]) * (RADIUS / FOCAL) / 450.0
    pts = []
    for (a, b), d in zip(TEMPLATE_CROP, TEMPLATE_DEPTH):
        z = (d + 135) * unit
        pts.append([(a - 0.5) * (RADIUS - z) / FOCAL, -(b - 0.5) * (RADIUS - z) / FOCAL, z])
    return np.array(pts, dtype=np.float64)


def ffhq_quad(lm):
    """FFHQ's recreate_aligned_images (NVlabs/ffhq-dataset): centre c and half-side vectors x, y."""
    lm = np.asarray(lm, dtype=np.float64)
    eye_left, eye_right = lm[36:42].mean(0), lm[42:48].mean(0)
    eye_avg, eye_to_eye = (eye_left + eye_right) * 0.5, eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    return c, x, y


def pnp_golden(points):
    """OpenCV's iterative solvePnP (Levenberg-Marquardt) on the template, in the FFHQ crop's normalised
    coordinates with EG3D's intrinsics, started from the frontal camera."""
    c, x, y = ffhq_quad(points)
    origin, u, v = c - x - y, 2 * x, 2 * y
    m = np.array([[u[0], v[0]], [u[1], v[1]]])
    obs = np.array([np.linalg.solve(m, np.asarray(points[i], np.float64) - origin) for i in TEMPLATE_IDX])
    k = np.array([[FOCAL, 0, 0.5], [0, FOCAL, 0.5], [0, 0, 1]], dtype=np.float64)
    rvec0 = np.array([[np.pi], [0.0], [0.0]])  # diag(1, -1, -1)
    tvec0 = np.array([[0.0], [0.0], [RADIUS]])
    ok, rvec, tvec = cv2.solvePnP(template3d(), obs, k, None, rvec0, tvec0, useExtrinsicGuess=True,
                                  flags=cv2.SOLVEPNP_ITERATIVE)
    r, _ = cv2.Rodrigues(rvec)
    return {"observed": obs.tolist(), "rotation": r.reshape(-1).tolist(), "translation": tvec.reshape(-1).tolist()}


def main():
    os.makedirs(OUT, exist_ok=True)
    predictor = dlib.shape_predictor(PREDICTOR)
    cascades = {name: cv2.CascadeClassifier(os.path.join(CASCADES, "haarcascade_%s.xml" % name))
                for name in ("frontalface_default", "frontalface_alt2", "profileface")}
    out = {
        "generator": "tools/make_face_goldens.py",
        "opencv": cv2.__version__,
        "dlib": dlib.__version__,
        "scaleFactor": SCALE_FACTOR,
        "minNeighbors": MIN_NEIGHBORS,
        "gray": "cv2.cvtColor(rgb, COLOR_RGB2GRAY)",
        "dlibRect": "dlib.rectangle(x, y, x + w - 1, y + h - 1) from the Haar box; dlib gets the RGB image",
        "images": [],
    }
    for fname, rgb in make_images().items():
        write_ppm(os.path.join(OUT, fname), rgb)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        entry = {"file": fname, "width": rgb.shape[1], "height": rgb.shape[0], "detections": {}, "landmarks": []}
        for name, cc in cascades.items():
            boxes = cc.detectMultiScale(gray, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS)
            entry["detections"][name] = [[int(v) for v in b] for b in boxes]
        rects = []
        for x, y, w, h in entry["detections"]["frontalface_default"]:
            rects.append((x, y, x + w - 1, y + h - 1))
            # A deliberately displaced box too: the cascade must behave like dlib's away from its sweet spot.
            d = max(2, w // 12)
            rects.append((x + d, y - d, x + w - 1 + d, y + h - 1 + d // 2))
        for l, t, r, b in rects:
            shape = predictor(rgb, dlib.rectangle(int(l), int(t), int(r), int(b)))
            pts = [[p.x, p.y] for p in shape.parts()]
            entry["landmarks"].append({"rect": [int(l), int(t), int(r), int(b)], "points": pts,
                                       "pnp": pnp_golden(pts)})
        out["images"].append(entry)
        print(fname, {k: v for k, v in entry["detections"].items()}, len(entry["landmarks"]), "landmark sets")
    with open(os.path.join(OUT, "faces_goldens.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
