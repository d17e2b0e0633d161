"""Head parameters p̂ (head_field.PARAMS) measured on a real face: expression from its 68 dlib landmarks (mouth and
eye aspect ratios, brow height, mouth width, each relative to the eye distance), identity from landmark proportions
and the aligned crop's colours. Constants put a typical neutral face near 0 and a wide-open mouth / closed eye at 1."""
import numpy as np

import head_field as H


def dist(L, a, b):
    return np.linalg.norm(L[..., a, :] - L[..., b, :], axis=-1)


def raw_measures(L, crop=None):
    """L [..., 68, 2] → dict of scale-free measurements."""
    iod = dist(L, 36, 45)
    m = {
        "mar": (dist(L, 61, 67) + dist(L, 62, 66) + dist(L, 63, 65)) / 3 / dist(L, 60, 64),
        "width": dist(L, 48, 54) / iod,
        # Person's right eye is 36-41 (image left), left eye 42-47.
        "ear_r": (dist(L, 37, 41) + dist(L, 38, 40)) / (2 * dist(L, 36, 39)),
        "ear_l": (dist(L, 43, 47) + dist(L, 44, 46)) / (2 * dist(L, 42, 45)),
        "brow": (np.linalg.norm(L[..., 17:22, :].mean(-2) - L[..., 36:42, :].mean(-2), axis=-1)
                 + np.linalg.norm(L[..., 22:27, :].mean(-2) - L[..., 42:48, :].mean(-2), axis=-1)) / 2 / iod,
        "face_w": dist(L, 1, 15) / dist(L, 27, 8),
        "chin": dist(L, 57, 8) / iod,
        "nose": dist(L, 27, 33) / iod,
    }
    if crop is not None:
        # Aligned 256² crops (FFHQ alignment): cheeks and the hair above the forehead sit at fixed places.
        c = crop.astype(np.float32) / 255
        s = c.shape[-2] / 256
        cheek = np.concatenate([c[..., int(140 * s):int(160 * s), int(70 * s):int(90 * s), :],
                                c[..., int(140 * s):int(160 * s), int(166 * s):int(186 * s), :]], -2)
        m["skin"] = cheek.mean((-3, -2)) @ np.array([0.3, 0.59, 0.11])
        m["hair"] = c[..., int(8 * s):int(28 * s), int(100 * s):int(156 * s), :].mean((-3, -2)) @ np.array([0.3, 0.59, 0.11])
    return m


def params(m):
    """Measurements → p̂ [..., K] (clamped to the fitted range)."""
    p = np.zeros(np.shape(m["mar"]) + (H.K,), np.float32)
    p[..., 0] = (m["mar"] - 0.03) / 0.4
    p[..., 1] = (m["width"] - 0.57) / 0.1
    p[..., 2] = (0.30 - m["ear_l"]) / 0.14
    p[..., 3] = (0.30 - m["ear_r"]) / 0.14
    p[..., 4] = (m["brow"] - 0.23) / 0.04
    p[..., 5] = (m["face_w"] - 1.2) / 0.08
    p[..., 6] = (m["chin"] - 0.37) / 0.04
    p[..., 7] = (m["nose"] - 0.57) / 0.04
    if "skin" in m:
        p[..., 8] = (0.55 - m["skin"]) / 0.2
        p[..., 9] = (m["hair"] - 0.35) / 0.2
    return np.clip(p, -1.5, 1.5)
