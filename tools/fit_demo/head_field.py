"""A procedural cartoon head as density and colour fields in the EG3D box [-0.5, 0.5]^3 (x right, y up, the face
looking toward +z), controlled by a parameter vector p (PARAMS below, each about in [-1.5, 1.5]; 0 is a neutral
face with open eyes and a closed mouth). `style` changes the look: 'source', 'caricature', 'poster', 'sketch'."""
import torch

PARAMS = ["mouth_open", "smile", "blink_left", "blink_right", "brows", "head_width", "jaw", "nose", "skin", "hair"]
K = len(PARAMS)
SCALE = 0.86


def ellipsoid(q, c, r):
    """Approximate signed distance to an axis-aligned ellipsoid (scaled-sphere bound)."""
    d = (q - c) / r
    k = d.norm(dim=-1)
    return (k - 1) * r.min(dim=-1).values


def smin(a, b, k=0.03):
    h = (0.5 + 0.5 * (b - a) / k).clamp(0, 1)
    return b + (a - b) * h - k * h * (1 - h)


def lerp(a, b, t):
    return a + (b - a) * t[..., None]


def field(x, p, style="source"):
    """x [N, 3], p [N, K] → sdf [N] (negative inside) and rgb [N, 3] in [0, 1]."""
    T = lambda *v: torch.tensor(v, dtype=x.dtype)
    x = x / SCALE  # the head is modelled at unit scale, then shrunk to leave room around it in the frame
    mo, sm, bl, br, bw, hw, jw, ns, sk, hc = [p[:, i] for i in range(K)]
    opening = mo.clamp(0, 1.6)
    closeL, closeR = bl.clamp(0, 1), br.clamp(0, 1)
    if style == "caricature":
        ns = ns * 1.3 + 2.4
        jw = jw * 1.3 + 1.4
        hw = hw - 0.5
    one = torch.ones_like(hw)
    # Head: skull, jaw, chin, nose, ears, neck.
    skull = ellipsoid(x, torch.stack([0 * one, 0.04 * one, -0.03 * one], -1),
                      torch.stack([0.25 * (1 + 0.12 * hw), 0.31 * one, 0.27 * one], -1))
    jaw = ellipsoid(x, torch.stack([0 * one, -0.1 - 0.02 * jw, 0.0 * one], -1),
                    torch.stack([0.2 * (1 + 0.12 * hw) - 0.01 * jw, 0.17 + 0.02 * jw, 0.21 * one], -1))
    chin = ellipsoid(x, torch.stack([0 * one, -0.22 - 0.035 * jw, 0.13 + 0.035 * jw], -1),
                     torch.stack([0.07 + 0.015 * jw, 0.06 + 0.012 * jw, 0.06 + 0.012 * jw], -1))
    nose_s = (1 + 0.35 * ns).clamp(0.4, 3.0)
    nose = ellipsoid(x, torch.stack([0 * one, 0.0 * one, 0.235 + 0.03 * (nose_s - 1)], -1),
                     torch.stack([0.035 * nose_s, 0.05 * nose_s, 0.05 * nose_s], -1))
    earx = 0.245 * (1 + 0.12 * hw)
    earL = ellipsoid(x, torch.stack([earx, 0.02 * one, -0.03 * one], -1), T(0.035, 0.075, 0.05).expand(len(x), 3))
    earR = ellipsoid(x, torch.stack([-earx, 0.02 * one, -0.03 * one], -1), T(0.035, 0.075, 0.05).expand(len(x), 3))
    neck = torch.maximum((x[:, [0, 2]] - T(0, -0.04)).norm(dim=-1) - 0.12, torch.maximum(x[:, 1] + 0.5, -0.12 - x[:, 1]) * 0 + (-0.18 - x[:, 1]).clamp(max=0) * 0 + torch.where(x[:, 1] > -0.15, x[:, 1] + 0.15, -torch.ones_like(hw)))
    head = smin(smin(skull, jaw, 0.06), chin, 0.05)
    head = smin(head, nose, 0.02)
    head = smin(torch.minimum(head, torch.minimum(earL, earR)), neck, 0.04)
    # Eyes: balls sitting in the face.
    ey, ez, ex, er = 0.07, 0.17, 0.1, 0.062
    eyeL = (x - torch.stack([ex * one, ey * one, ez * one], -1)).norm(dim=-1) - er
    eyeR = (x - torch.stack([-ex * one, ey * one, ez * one], -1)).norm(dim=-1) - er
    sdf = torch.minimum(head, torch.minimum(eyeL, eyeR))
    # Hair: a cap over the top and back.
    hairb = ellipsoid(x, torch.stack([0 * one, 0.08 * one, -0.05 * one], -1),
                      torch.stack([0.27 * (1 + 0.12 * hw), 0.31 * one, 0.29 * one], -1))
    capmask = (x[:, 1] - 0.16 + 0.35 * (x[:, 2] - 0.05).clamp(min=0) - 0.6 * (x[:, 2] + 0.0).clamp(max=0)).clamp(min=-1)
    hair = torch.maximum(hairb, -capmask)
    sdf = torch.minimum(sdf, hair)
    # Mouth: a slot with a dark inside carved into the lower face.
    mw = 0.095 * (1 + 0.2 * sm.clamp(-1, 2))
    u = (x[:, 0] / mw).clamp(-1.5, 1.5)
    yc = -0.105 + 0.035 * sm.clamp(-1, 2) * (u * u - 0.35)
    hh = 0.008 + 0.05 * opening * (1 - u * u).clamp(min=0)
    inside_xy = (x[:, 0].abs() < mw) & ((x[:, 1] - yc).abs() < hh)
    cavity = torch.maximum(torch.maximum(x[:, 0].abs() - mw, (x[:, 1] - yc).abs() - hh), 0.1 - x[:, 2])
    sdf = torch.where(opening > 0.05, torch.maximum(sdf, -cavity), sdf)
    # Colours.
    skin = lerp(T(0.98, 0.8, 0.64), T(0.55, 0.36, 0.24), ((sk + 1.5) / 3).clamp(0, 1))
    hairc = torch.where((hc < 0)[:, None], lerp(T(0.35, 0.2, 0.1), T(0.08, 0.06, 0.05), (-hc).clamp(0, 1.5) / 1.5),
                        lerp(T(0.35, 0.2, 0.1), T(0.92, 0.75, 0.35), hc.clamp(0, 1.5) / 1.5))
    col = skin.clone()
    on_hair = hair < torch.minimum(head, torch.minimum(eyeL, eyeR)) + 0.004
    col = torch.where(on_hair[:, None], hairc, col)
    front = x[:, 2] > 0.05
    # Eyes: white ball, dark iris, lid of skin from the top down by the closure, a dark lid line.
    for sx, close, eye in [(1.0, closeL, eyeL), (-1.0, closeR, eyeR)]:
        on = eye < 0.006
        dx, dy = x[:, 0] - sx * ex, x[:, 1] - ey
        white = T(0.97, 0.97, 0.97).expand(len(x), 3)
        c = torch.where((dx * dx + dy * dy < 0.03 ** 2)[:, None], T(0.12, 0.08, 0.06).expand(len(x), 3), white)
        lid_edge = ey + er * (1 - 2 * close)
        c = torch.where((x[:, 1] > lid_edge)[:, None], skin * 0.85, c)
        c = torch.where(((x[:, 1] - lid_edge).abs() < 0.006)[:, None], T(0.15, 0.08, 0.06).expand(len(x), 3), c)
        col = torch.where((on & front)[:, None], c, col)
        # Brow.
        by = ey + 0.09 + 0.03 * bw.clamp(-1.5, 1.5)
        tilt = -0.25 * bw.clamp(-1.5, 1.5) * (sx * dx) / 0.05 * 0.02
        brow = (dx.abs() < 0.065) & ((x[:, 1] - by - tilt).abs() < 0.02) & front & ~on_hair
        col = torch.where(brow[:, None], hairc * 0.6, col)
    lips = (x[:, 0].abs() < mw + 0.012) & ((x[:, 1] - yc).abs() < hh + 0.013) & front
    col = torch.where(lips[:, None], T(0.78, 0.25, 0.28).expand(len(x), 3), col)
    col = torch.where((inside_xy & (x[:, 2] > 0.09))[:, None], T(0.22, 0.02, 0.04).expand(len(x), 3), col)
    mouth_in = (cavity < 0.008) & front & (opening > 0.05)
    col = torch.where(mouth_in[:, None], T(0.22, 0.02, 0.04).expand(len(x), 3), col)
    nose_tip = (nose < 0.003) & (x[:, 2] > 0.2) & (nose_s > 0)
    col = torch.where(nose_tip[:, None], col * 0.9 + T(0.1, 0.0, 0.0), col)
    if style == "poster":
        # Flat poster colours: strong saturation, three-level quantised brightness by height (cel bands).
        g = col.mean(-1, keepdim=True)
        col = (g + 1.6 * (col - g)).clamp(0, 1)
        col = torch.round(col * 3) / 3
    elif style == "sketch":
        g = (col * T(0.3, 0.59, 0.11)).sum(-1, keepdim=True)
        g = torch.where(g < 0.45, g * 0.5, 0.92 + 0.08 * g)
        col = (g * T(1.0, 0.98, 0.93)).clamp(0, 1)
    elif style == "caricature":
        col = (col * T(1.05, 0.95, 0.9)).clamp(0, 1)
    return sdf * SCALE, col


def raw_density(sdf):
    """The decoder's raw σ (the renderer applies softplus(σ − 1)): about 60 inside, −8 outside, a 1.5 cm skin."""
    return 34 * torch.tanh(-sdf / 0.015) + 26
