// The average W+ code an encoder's output is added to. e4e/pSp trust the checkpoint's latent_avg;
// PREIM3D's loader (models/psp.py __load_latent_avg) recomputes it from the EG3D generator instead:
// 10000 z from numpy RandomState(123).randn, mapped with the camera LookAtPoseSampler.sample(3.14/2,
// 3.14/2, avg_camera_pivot, avg_camera_radius) and focal 4.2647, truncation psi 0.7, cutoff 14, then
// the mean over samples.
import Foundation
import Models
import Tensors

public enum LatentAverage {
    public static let preim3dSamples = 10_000
    public static let preim3dSeed: UInt32 = 123
    /// PREIM3D passes 3.14 / 2, not π/2, as both angles.
    public static let preim3dAngle = 3.14 / 2
    public static let preim3dPsi: Float = 0.7
    public static let preim3dCutoff = 14

    /// PREIM3D's latent average for `generator`, [num_ws, w_dim]. `samples` is lowered only by tests.
    public static func preim3d(generator g: TriPlaneGenerator, camera cams: CameraDefaults, samples: Int = preim3dSamples) -> Tensor {
        var rng = NumpyRandomState(seed: preim3dSeed)
        var c = cams
        c.focal = 4.2647
        let offset = preim3dAngle - Double.pi / 2
        let camera = c.camera(yaw: offset, pitch: offset).vector
        let n = g.architecture.numWs * g.architecture.wDim
        var sum = [Double](repeating: 0, count: n)
        for _ in 0..<samples {
            // The mapping casts z to float32 first (networks_stylegan2.py MappingNetwork.forward).
            let z = rng.randn(g.architecture.zDim).map { Float($0) }
            let ws = g.map(z: z, camera: camera, psi: preim3dPsi, cutoff: preim3dCutoff)
            for i in 0..<n { sum[i] += Double(ws.data[i]) }
        }
        return Tensor(shape: [g.architecture.numWs, g.architecture.wDim], data: sum.map { Float($0 / Double(samples)) })
    }
}
