import Crypto
import Foundation
import Tensors
import XCTest
@testable import Checkpoints

/// The checkpoint fixtures (Fixtures/, copied from shared/fixtures/checkpoints: tiny checkpoints written
/// by the official code in the formats users download) and the goldens tools/make_checkpoint_goldens.py
/// made from them with PyTorch.
enum CheckpointFixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }

    struct Goldens: Decodable {
        struct Randn: Decodable { let first16: [Double]; let last4: [Double] }
        struct Average: Decodable { let shape: [Int]; let values: [Float] }
        let tensors: [String: [String: String]]
        let randn123: Randn
        let preim3d_latent_avg: Average
    }

    static let goldens: Goldens = try! JSONDecoder().decode(Goldens.self, from: Data(contentsOf: url("goldens.json")))

    /// A fresh temporary folder, removed by the test's teardown.
    static func temporaryFolder(_ test: XCTestCase) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-import-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// SHA-256 of a tensor's float32 little-endian bytes, as the goldens hash them.
    static func digest(_ t: Tensor) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 * t.count)
        for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Max |a − b| / max |b|, as the parity tests measure.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float { a.relativeError(to: b) }
}
