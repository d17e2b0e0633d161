import Foundation

/// Head pose from 68 landmarks, measured in the aligned crop so that the camera it gives matches the
/// image the encoder sees. A six-point 3-D face template is fitted by perspective-n-point with EG3D's
/// own intrinsics (normalised focal 4.2647, principal point at the centre) and the rotation is read as
/// yaw, pitch and roll of the head, then turned into an EG3D camera on its look-at sphere.
///
/// The template: its x, y are dlib's mean shape (the `initial_shape` of Debian's
/// shape_predictor_68_face_landmarks.dat, the mean of the iBUG 300-W training shapes) put through the
/// FFHQ alignment, so dlib's average face is by definition frontal; its depths are those of the
/// six-point generic head model common in OpenCV head-pose work (nose tip 0, chin −65, outer eye
/// corners −135, mouth corners −125, with the eye corners 450 apart), scaled to the same units.
public struct HeadPose: Sendable, Equatable, Codable {
    /// Radians. Yaw > 0: the face turns towards image right (the subject's left). Pitch > 0: the face
    /// tilts down. Roll > 0: the face turns counter-clockwise in the image.
    public var yaw: Double
    public var pitch: Double
    public var roll: Double
    /// Root-mean-square reprojection error of the template, in units of the crop size.
    public var residual: Double

    public init(yaw: Double, pitch: Double, roll: Double, residual: Double = 0) {
        self.yaw = yaw
        self.pitch = pitch
        self.roll = roll
        self.residual = residual
    }

    public static let frontal = HeadPose(yaw: 0, pitch: 0, roll: 0)

    /// The landmark indices the template uses: nose tip, chin, outer eye corners, mouth corners.
    static let templateIndices = [30, 8, 36, 45, 48, 54]
    /// dlib's mean shape at those indices, in FFHQ-aligned crop coordinates ([0, 1]², see above).
    static let templateCrop: [(Double, Double)] = [
        (0.5, 0.614489), (0.5, 0.932437), (0.325934, 0.473694),
        (0.674066, 0.473694), (0.388734, 0.738637), (0.611266, 0.738637),
    ]
    /// The generic model's depths (towards the viewer), in its own units.
    static let templateDepth: [Double] = [0, -65, -135, -135, -125, -125]
    /// The generic model's outer-eye-corner distance, in the same units.
    static let templateEyeSpan = 450.0

    /// The template in EG3D world coordinates (y up, z towards the frontal camera), eye corners at z = 0.
    static let template: [[Double]] = {
        let f = EG3DCamera.focal, r = EG3DCamera.radius
        let eyeSpanCrop = templateCrop[3].0 - templateCrop[2].0
        // One crop width spans r / f world units at the frontal camera's distance.
        let unit = eyeSpanCrop * (r / f) / templateEyeSpan
        return zip(templateCrop, templateDepth).map { crop, depth in
            let z = (depth + 135) * unit
            return [(crop.0 - 0.5) * (r - z) / f, -(crop.1 - 0.5) * (r - z) / f, z]
        }
    }()

    /// The frontal world→camera rotation (diag(1, −1, −1)) and translation (0, 0, 2.7).
    static let frontalRotation: [Double] = [1, 0, 0, 0, -1, 0, 0, 0, -1]

    /// Estimates the pose from 68 landmarks and the alignment the crop was made with.
    public static func estimate(landmarks: [Point2], alignment: AlignmentTransform) -> HeadPose {
        precondition(landmarks.count == 68)
        let observed = templateIndices.map { alignment.toCrop(landmarks[$0]) }
        // A degenerate quad (all landmarks on one point) has no inverse; report frontal with the worst
        // possible residual (a whole crop) rather than NaNs that would poison smoothing and JSON.
        guard observed.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { return HeadPose(yaw: 0, pitch: 0, roll: 0, residual: 1) }
        let (rotation, _, rms) = solvePnP(observed: observed)
        let pose = fromRotation(rotation, residual: rms)
        guard pose.yaw.isFinite, pose.pitch.isFinite, pose.roll.isFinite else { return HeadPose(yaw: 0, pitch: 0, roll: 0, residual: 1) }
        return pose
    }

    /// Yaw, pitch, roll of H = R0ᵀ·R, decomposed as H = Ry(yaw)·Rx(pitch)·Rz(roll) about the world axes.
    static func fromRotation(_ r: [Double], residual: Double) -> HeadPose {
        let h = matmul(frontalRotation, r)  // R0 is its own transpose
        let pitch = asin(max(-1, min(1, -h[5])))
        let roll = atan2(h[3], h[4])
        let yaw = atan2(h[2], h[8])
        return HeadPose(yaw: yaw, pitch: pitch, roll: roll, residual: residual)
    }

    /// The rotation for a pose (inverse of `fromRotation`).
    static func rotation(for pose: HeadPose) -> [Double] {
        let cy = cos(pose.yaw), sy = sin(pose.yaw), cp = cos(pose.pitch), sp = sin(pose.pitch)
        let cr = cos(pose.roll), sr = sin(pose.roll)
        let ry: [Double] = [cy, 0, sy, 0, 1, 0, -sy, 0, cy]
        let rx: [Double] = [1, 0, 0, 0, cp, -sp, 0, sp, cp]
        let rz: [Double] = [cr, -sr, 0, sr, cr, 0, 0, 0, 1]
        return matmul(frontalRotation, matmul(ry, matmul(rx, rz)))
    }

    /// The EG3D camera that sees the canonical head as this pose shows it: the camera direction is the
    /// frontal one carried into the head's frame, h and v are read off it as `LookAtPoseSampler` defines
    /// them, and the roll is the remaining turn about the viewing axis. The frontal pose gives exactly
    /// `EG3DCamera.frontal`.
    public var camera: EG3DCamera {
        let r = Self.rotation(for: self)           // world → camera
        let rt = Self.transpose(r)                 // camera axes as columns, in world coordinates
        // Direction from the head to the camera: minus the camera's forward axis (third column of Rᵀ).
        let d = [-rt[2], -rt[5], -rt[8]]
        let v = Double.pi * (1 - max(-1, min(1, d[1]))) / 2
        let h = Double.pi - atan2(d[2], d[0])
        let base = EG3DCamera.lookAt(horizontal: h, vertical: v)
        // Roll: angle from the look-at camera's x axis to the fitted camera's x axis, about forward.
        let bx = [base.cam2world[0], base.cam2world[4], base.cam2world[8]]
        let by = [base.cam2world[1], base.cam2world[5], base.cam2world[9]]
        let fx = [rt[0], rt[3], rt[6]]
        let rollAngle = atan2(Self.dot(fx, by), Self.dot(fx, bx))
        return EG3DCamera.lookAt(horizontal: h, vertical: v, roll: rollAngle)
    }

    // MARK: PnP (Levenberg–Marquardt on the six template points)

    /// Finds world→camera R, t minimising the squared distance between the projected template
    /// (normalised: u = f·X/Z + 0.5) and `observed`. Starts from the frontal camera, which is always
    /// close for aligned crops (the alignment removed translation, scale and most roll).
    static func solvePnP(observed: [Point2]) -> (rotation: [Double], translation: [Double], rms: Double) {
        var rot = frontalRotation
        var t = [0.0, 0.0, EG3DCamera.radius]
        func residuals(_ r: [Double], _ t: [Double]) -> [Double] {
            var out = [Double]()
            out.reserveCapacity(2 * template.count)
            for (k, p) in template.enumerated() {
                let xc = r[0] * p[0] + r[1] * p[1] + r[2] * p[2] + t[0]
                let yc = r[3] * p[0] + r[4] * p[1] + r[5] * p[2] + t[1]
                let zc = r[6] * p[0] + r[7] * p[1] + r[8] * p[2] + t[2]
                out.append(EG3DCamera.focal * xc / zc + 0.5 - observed[k].x)
                out.append(EG3DCamera.focal * yc / zc + 0.5 - observed[k].y)
            }
            return out
        }
        func apply(_ delta: [Double], _ r: [Double], _ t: [Double]) -> ([Double], [Double]) {
            (matmul(rodrigues(delta[0], delta[1], delta[2]), r), [t[0] + delta[3], t[1] + delta[4], t[2] + delta[5]])
        }
        var res = residuals(rot, t)
        var cost = res.reduce(0) { $0 + $1 * $1 }
        var lambda = 1e-3
        for _ in 0..<50 {
            // Numerical Jacobian (6 parameters, 12 residuals).
            var jac = [[Double]](repeating: [Double](repeating: 0, count: 6), count: res.count)
            let eps = 1e-6
            for k in 0..<6 {
                var d = [Double](repeating: 0, count: 6)
                d[k] = eps
                let (r2, t2) = apply(d, rot, t)
                let rk = residuals(r2, t2)
                for i in 0..<res.count { jac[i][k] = (rk[i] - res[i]) / eps }
            }
            var jtj = [Double](repeating: 0, count: 36), jtr = [Double](repeating: 0, count: 6)
            for i in 0..<res.count {
                for a in 0..<6 {
                    jtr[a] += jac[i][a] * res[i]
                    for b in 0..<6 { jtj[a * 6 + b] += jac[i][a] * jac[i][b] }
                }
            }
            var improved = false
            for _ in 0..<10 {
                var m = jtj
                for a in 0..<6 { m[a * 6 + a] *= 1 + lambda }
                guard let step = solve6(m, jtr.map { -$0 }) else { lambda *= 10; continue }
                let (r2, t2) = apply(step, rot, t)
                let res2 = residuals(r2, t2)
                let cost2 = res2.reduce(0) { $0 + $1 * $1 }
                if cost2 < cost {
                    rot = r2; t = t2; res = res2
                    let gain = cost - cost2
                    cost = cost2
                    lambda = max(lambda / 10, 1e-9)
                    improved = gain > 1e-16
                    break
                }
                lambda *= 10
            }
            if !improved { break }
        }
        return (rot, t, (cost / Double(template.count)).squareRoot())
    }

    static func rodrigues(_ wx: Double, _ wy: Double, _ wz: Double) -> [Double] {
        let theta = (wx * wx + wy * wy + wz * wz).squareRoot()
        if theta < 1e-12 { return [1, -wz, wy, wz, 1, -wx, -wy, wx, 1] }
        let kx = wx / theta, ky = wy / theta, kz = wz / theta
        let c = cos(theta), s = sin(theta), v = 1 - c
        return [
            c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s,
            ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s,
            kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v,
        ]
    }

    static func matmul(_ a: [Double], _ b: [Double]) -> [Double] {
        var c = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { c[3 * i + j] += a[3 * i + k] * b[3 * k + j] } } }
        return c
    }

    static func transpose(_ a: [Double]) -> [Double] { [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]] }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { a[0] * b[0] + a[1] * b[1] + a[2] * b[2] }

    /// Gaussian elimination with partial pivoting for the 6×6 normal equations.
    static func solve6(_ m: [Double], _ rhs: [Double]) -> [Double]? {
        var a = m, b = rhs
        let n = 6
        for col in 0..<n {
            var piv = col
            for r in (col + 1)..<n where abs(a[r * n + col]) > abs(a[piv * n + col]) { piv = r }
            if abs(a[piv * n + col]) < 1e-18 { return nil }
            if piv != col {
                for k in 0..<n { a.swapAt(col * n + k, piv * n + k) }
                b.swapAt(col, piv)
            }
            for r in (col + 1)..<n {
                let f = a[r * n + col] / a[col * n + col]
                if f == 0 { continue }
                for k in col..<n { a[r * n + k] -= f * a[col * n + k] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for k in (r + 1)..<n { s -= a[r * n + k] * x[k] }
            x[r] = s / a[r * n + r]
        }
        return x
    }
}
