import Foundation
import Models
import Tensors
import XCTest
@testable import Checkpoints

/// `models import` of the EG3D snapshot pickles: every tensor as PyTorch reads it, the recorded settings,
/// and the bundle's forward against the official one (psi 0.6, cutoff 14, the fixtures' deterministic
/// rendering), at neural rendering resolution 128 and 64.
final class GeneratorImportTests: XCTestCase {
    struct Run {
        let manifest: GeneratorManifest
        let weights: Weights
        let io: [String: Tensor]
        let ws: Tensor
        let output: GeneratorOutput
    }

    nonisolated(unsafe) static var runs: [String: Run] = [:]
    static let lock = NSLock()

    /// Imports the pickle into a temporary bundle once and runs its forward.
    static func run(_ pkl: String, _ test: XCTestCase) throws -> Run {
        lock.lock(); defer { lock.unlock() }
        if let r = runs[pkl] { return r }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("g")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url(pkl), output: out, role: .style))
        let bundle = try ModelBundle.open(out)
        let g = try bundle.loadGenerator()
        let io = try SafeTensorsFile(url: CheckpointFixtures.url(pkl.replacingOccurrences(of: ".pkl", with: ".io.safetensors"))).all()
        let ws = g.map(z: io["z"]!.data, camera: io["c_mapping"]!.data, psi: 0.6, cutoff: 14)
        let output = g.synthesize(ws: ws, camera: io["c_render"]!.data)
        let r = Run(manifest: bundle.manifest, weights: try Weights(safetensors: bundle.weightsURL), io: io, ws: ws, output: output)
        runs[pkl] = r
        return r
    }

    func check(_ name: String, _ mine: Tensor, _ reference: Tensor?, file: StaticString = #filePath, line: UInt = #line) {
        CheckpointFixtures.checkParity(name, mine, reference, file: file, line: line)
    }

    func checkForward(_ pkl: String, renderSide: Int) throws {
        let r = try Self.run(pkl, self)
        check("ws", r.ws, r.io["ws"])
        let p = r.output.planes
        let ch = p.shape[0], res = p.shape[1]
        var sub = [Float](), row = [Float]()
        for c in 0..<ch {
            for y in stride(from: 0, to: res, by: 16) { for x in stride(from: 0, to: res, by: 16) { sub.append(p.data[(c * res + y) * res + x]) } }
            for x in 0..<res { row.append(p.data[(c * res + 128) * res + x]) }
        }
        check("planes_sub16", Tensor(shape: [ch, res / 16, res / 16], data: sub), r.io["planes_sub16"])
        check("planes_row128", Tensor(shape: [ch, res], data: row), r.io["planes_row128"])
        XCTAssertEqual(r.output.featureImage.shape, [32, renderSide, renderSide])
        check("feature_image", r.output.featureImage, r.io["feature_image"])
        check("image_raw", r.output.imageRaw, r.io["image_raw"])
        check("image_depth", r.output.imageDepth, r.io["image_depth"])
        XCTAssertEqual(r.output.image.shape, [3, 512, 512])
        check("image", r.output.image, r.io["image"])
    }

    func testForwardAtRenderingResolution128() throws {
        try checkForward("eg3d-nrr128.pkl", renderSide: 128)
    }

    /// The -64 layout: a 64² render resized to the SR's 128² input (bilinear, antialiased).
    func testForwardAtRenderingResolution64() throws {
        try checkForward("eg3d-nrr64.pkl", renderSide: 64)
    }

    func testManifestRecordsWhatThePickleSays() throws {
        let m64 = try Self.run("eg3d-nrr64.pkl", self).manifest
        XCTAssertEqual(m64.architecture.neuralRenderingResolution, 64)
        XCTAssertEqual(m64.architecture.superresolutionInputResolution, 128)
        XCTAssertEqual(m64.architecture.superresolutionAntialias, true)
        XCTAssertEqual(m64.architecture.superresolutionConvClamp, 256)
        XCTAssertNil(m64.architecture.backboneConvClamp)
        XCTAssertEqual(m64.architecture.superresolutionNoiseMode, "none")
        XCTAssertEqual(m64.architecture.mappingLrMultiplier, 0.01, accuracy: 1e-9)
        XCTAssertEqual(m64.architecture.rendering.depthResolution, 48)
        XCTAssertEqual(m64.architecture.rendering.rayStart, 2.25)
        XCTAssertEqual(m64.role, "style-generator")
        XCTAssertEqual(m64.camera.radius, 2.7, accuracy: 1e-9)
        XCTAssertEqual(m64.camera.pivot, [0, 0, 0.2])
        let m128 = try Self.run("eg3d-nrr128.pkl", self).manifest
        XCTAssertEqual(m128.architecture.neuralRenderingResolution, 128)
    }

    /// A model trained with the corrected tri-plane axes (NVlabs/eg3d#67, as LPFF's are) carries them in its
    /// renderer's `plane_axes`: the import finds them, the manifest records them, and the bundle renders as the
    /// official forward does with them (tools/make_triplane_axes_fixture.py made the reference by swapping the same
    /// 27 floats in the same pickle). The released pickle records the original axes.
    func testCorrectedTriplaneAxesAreDetectedRecordedAndRendered() throws {
        func bytes(_ axes: TriplaneAxes) -> [UInt8] { axes.matrices.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
        let released = [UInt8](try Data(contentsOf: CheckpointFixtures.url("eg3d-nrr128.pkl")))
        /// The pickle with every copy of `from` swapped for `to` (the same length, so the pickle stays valid).
        func swapping(_ from: [UInt8], for to: [UInt8]) -> (bytes: [UInt8], found: Int) {
            var out = released, found = 0, i = 0
            while i + from.count <= out.count {
                if out[i] == from[0], Array(out[i..<(i + from.count)]) == from {
                    out.replaceSubrange(i..<(i + from.count), with: to); found += 1; i += from.count
                } else { i += 1 }
            }
            return (out, found)
        }
        let from = bytes(.original)
        let (patched, found) = swapping(from, for: bytes(.corrected))
        XCTAssertEqual(found, 2, "the released plane_axes, once for G and once for G_ema")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-axes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pkl = dir.appendingPathComponent("lpff-style.pkl")
        try Data(patched).write(to: pkl)
        _ = try ModelImporter.run(ImportRequest(file: pkl, output: dir.appendingPathComponent("g"), role: .style))
        let bundle = try ModelBundle.open(dir.appendingPathComponent("g"))
        XCTAssertEqual(bundle.manifest.architecture.rendering.planeAxes, .corrected)
        XCTAssertEqual(try Self.run("eg3d-nrr128.pkl", self).manifest.architecture.rendering.planeAxes, .original)

        let g = try bundle.loadGenerator()
        let io = try SafeTensorsFile(url: CheckpointFixtures.url("eg3d-nrr128-corrected-axes.io.safetensors")).all()
        let ws = g.map(z: io["z"]!.data, camera: io["c_mapping"]!.data, psi: 0.6, cutoff: 14)
        check("ws", ws, io["ws"])
        let output = g.synthesize(ws: ws, camera: io["c_render"]!.data)
        check("image_raw (corrected axes)", output.imageRaw, io["image_raw"])
        check("image_depth (corrected axes)", output.imageDepth, io["image_depth"])
        // Rendering with the released axes instead would be far off: the test cannot pass with the axes ignored.
        let released128 = try Self.run("eg3d-nrr128.pkl", self).output.imageRaw
        XCTAssertGreaterThan(released128.relativeError(to: io["image_raw"]!), 0.05)

        // A projection that is neither is refused by name, not rendered wrongly.
        let (odd, oddFound) = swapping(from, for: withUnsafeBytes(of: Float(2).bitPattern.littleEndian, Array.init) + from.dropFirst(4))
        XCTAssertEqual(oddFound, 2)
        let oddFile = dir.appendingPathComponent("odd.pkl")
        try Data(odd).write(to: oddFile)
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: oddFile, output: dir.appendingPathComponent("o"), role: .style))) { error in
            XCTAssertTrue("\(error)".contains("plane_axes"), "\(error)")
        }
    }

    /// G_ema's every tensor, bit for bit as torch reads it (G differs in all of them).
    func testEveryTensorMatchesPyTorch() throws {
        for pkl in ["eg3d-nrr128.pkl", "eg3d-nrr64.pkl"] {
            let golden = CheckpointFixtures.goldens.tensors[pkl]!
            let w = try Self.run(pkl, self).weights
            XCTAssertEqual(Set(w.tensors.keys), Set(golden.keys), pkl)
            for (name, hash) in golden {
                guard let t = w.tensors[name] else { continue }
                XCTAssertEqual(CheckpointFixtures.digest(t), hash, "\(pkl): \(name)")
            }
        }
    }
}
