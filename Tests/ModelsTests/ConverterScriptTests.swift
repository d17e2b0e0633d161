import Foundation
import Tensors
import XCTest
@testable import Models

/// tools/convert_eg3d.py's writing half, run by Fixtures/scripts/convert_eg3d_check.py under PyTorch; the
/// bundle it writes must load here with weights identical to the fixture. Skipped without python3 + torch.
final class ConverterScriptTests: XCTestCase {
    func testConverterWritesALoadableBundle() throws {
        let tools = PythonTool.repoRoot.appendingPathComponent("tools")
        guard FileManager.default.fileExists(atPath: tools.appendingPathComponent("convert_eg3d.py").path) else {
            throw XCTSkip("tools/convert_eg3d.py not found from \(PythonTool.repoRoot.path)")
        }
        guard let probe = try? PythonTool.run(["-c", "import torch"]), probe.status == 0 else {
            throw XCTSkip("python3 with torch is not installed")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-convert-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = Bundle.module.url(forResource: "Fixtures/scripts/convert_eg3d_check", withExtension: "py")!
        let r = try PythonTool.run([script.path, GeneratorParityTests.fixture("weights.safetensors").path, tools.path, out.path])
        XCTAssertEqual(r.status, 0, r.output)
        guard r.status == 0 else { return }

        let bundle = try ModelBundle.open(out)
        XCTAssertEqual(bundle.manifest.role, "style-generator")
        XCTAssertEqual(bundle.manifest.style, "cartoon")
        XCTAssertEqual(bundle.manifest.architecture, GeneratorOptions())
        let written = try Weights(safetensors: bundle.weightsURL)
        let original = try Weights(safetensors: GeneratorParityTests.fixture("weights.safetensors"))
        XCTAssertEqual(Set(written.tensors.keys), Set(original.tensors.keys))
        for (k, v) in original.tensors { XCTAssertEqual(written[k], v, k) }
        _ = try bundle.loadGenerator()
    }
}
