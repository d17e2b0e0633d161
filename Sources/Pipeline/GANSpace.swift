import Foundation
import Models
import Tensors

/// GANSpace (Härkönen et al. 2020): principal directions of the generator's W distribution. Random z go
/// through the mapping network (frontal camera, no truncation); PCA of the resulting w gives directions
/// ordered by how much of W's variance they explain. Each is written as a direction file (`pc000.npy` …,
/// unit length, wDim floats: applied to every layer) that `--directions` / `--edit pc000=2` use.
public struct GANSpace: Sendable {
    public var mean: [Float]
    /// Unit directions, most variance first.
    public var components: [[Float]]
    /// Standard deviation of W along each component (an edit of 1.0 · std is a typical step).
    public var stds: [Float]

    public static func compute(generator g: TriPlaneGenerator, samples: Int, seed: UInt64 = 1) throws -> GANSpace {
        precondition(samples >= 2, "GANSpace needs at least 2 samples")
        let d = g.architecture.wDim
        var rng = SplitMix64(seed: seed)
        let frontal = GeneratorCamera.lookAt().vector
        var w = [Float](repeating: 0, count: samples * d)  // [samples, wDim]
        for i in 0..<samples {
            let z = (0..<g.architecture.zDim).map { _ in rng.gaussian() }
            let ws = g.map(z: z, camera: frontal, psi: 1, cutoff: nil)
            for j in 0..<d { w[i * d + j] = ws.data[j] }   // every layer holds the same w before truncation
        }
        let (cov, mean) = SymmetricEigen.covariance(w, rows: samples, dim: d)
        let (values, vectors) = try SymmetricEigen.decompose(cov, size: d)
        return GANSpace(mean: mean, components: vectors, stds: values.map { max($0, 0).squareRoot() })
    }

    /// Writes the first `count` components as `pc000.npy` … plus `ganspace.json` (stds, sample count).
    public func write(to folder: URL, count: Int, samples: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let n = min(count, components.count)
        for k in 0..<n {
            try NumpyArray.write(Tensor(shape: [components[k].count], data: components[k]),
                                 to: folder.appendingPathComponent(String(format: "pc%03d.npy", k)))
        }
        let info: [String: Any] = ["method": "GANSpace PCA of W (mapping of N(0, I) z, frontal camera, psi 1)",
                                   "samples": samples, "std": Array(stds.prefix(n)).map(Double.init)]
        try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("ganspace.json"), options: .atomic)
    }
}
