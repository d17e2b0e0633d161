import Foundation
import Tensors
import XCTest
@testable import Checkpoints

/// Storage dtypes and views as torch writes them (Fixtures/dtypes-*.pt from tools/make_checkpoint_goldens.py):
/// float16, bfloat16, float64 and int64 become float32 exactly as torch's .float() does; a transposed view
/// and an offset view of one shared storage come out right.
final class StorageTypesTests: XCTestCase {
    func read(_ name: String) throws -> [String: Tensor] {
        let url = CheckpointFixtures.url(name)
        let bytes = try TorchCheckpoint.bytes(of: url)
        return try TorchCheckpoint.read(bytes[...], file: url.path) { root, _ in
            try StateDict.fromMapping(XCTUnwrap(root.dict), file: url.path).materialize()
        }
    }

    func testBothFormats() throws {
        for name in ["dtypes-zip.pt", "dtypes-legacy.pt"] {
            let tensors = try read(name)
            let expected = CheckpointFixtures.goldens.dtypes
            XCTAssertEqual(Set(tensors.keys), Set(expected.keys), name)
            for (key, e) in expected {
                XCTAssertEqual(tensors[key]?.shape, e.shape, "\(name): \(key)")
                XCTAssertEqual(tensors[key]?.data, e.values, "\(name): \(key)")
            }
        }
    }
}
