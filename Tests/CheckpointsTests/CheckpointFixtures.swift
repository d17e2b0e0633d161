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
        let dtypes: [String: Average]
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

    static let tolerance: Float = 1e-4

    /// max|a − b| / max|b| ≤ 1e-4 against a non-zero reference, as the parity tests measure.
    static func checkParity(_ name: String, _ mine: Tensor, _ reference: Tensor?, file: StaticString = #filePath, line: UInt = #line) {
        guard let reference else { return XCTFail("fixture lacks \(name)", file: file, line: line) }
        XCTAssertEqual(mine.count, reference.count, "\(name) size", file: file, line: line)
        guard mine.count == reference.count else { return }
        let err = mine.relativeError(to: reference)
        print("import parity \(name): max|a-b|/max|b| = \(err)")
        XCTAssertLessThanOrEqual(err, tolerance, "\(name) relative error \(err)", file: file, line: line)
        XCTAssertGreaterThan(reference.maxAbs, 0, "\(name): reference is all zeros", file: file, line: line)
    }
}
