import Foundation
import XCTest
@testable import Tensors

/// .npy reading, including the damaged headers the fuzz target (Fuzz/Sources/FuzzNumpy) was built to find.
final class NumpyArrayTests: XCTestCase {
    /// A version 1.0 file with `header` (the dict literal) and `body` bytes.
    func npy(_ header: String, body: [UInt8] = []) -> Data {
        let text = header + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)])
        out.append(contentsOf: Array(text.utf8))
        out.append(contentsOf: body)
        return out
    }

    func testRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for t in [Tensor(shape: [3], data: [1, -2, 0.5]), Tensor(shape: [2, 2], data: [1, 2, 3, 4]), Tensor(scalar: 7)] {
            let url = dir.appendingPathComponent("t.npy")
            try NumpyArray.write(t, to: url)
            XCTAssertEqual(try NumpyArray.read(url), t)
        }
    }

    func assertBadHeader(_ header: String, body: [UInt8] = [], _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try NumpyArray.decode(npy(header, body: body), path: "bad.npy"), line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("bad.npy") && message.contains(fragment), message, line: line)
        }
    }

    func testShapesWhoseProductOverflowsAreRefused() {
        // 2^32 · 2^32 overflowed: a trap in a checked build, 0 elements matching an empty body under -Ounchecked.
        assertBadHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "larger than the file")
        assertBadHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 3), }", "larger than the file")
    }

    func testNegativeAndNonNumericDimensionsAreRefused() {
        // (-1, -4) multiplied to 4 elements: the body matched and a tensor of shape [-1, -4] came back.
        assertBadHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, -4), }", body: [UInt8](repeating: 0, count: 16),
                        "not a tuple of sizes")
        // (2, x) was read as (2,): the junk dimension silently dropped.
        assertBadHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", body: [UInt8](repeating: 0, count: 8),
                        "not a tuple of sizes")
    }

    func testScalarAndOneDimensionalShapesRead() throws {
        XCTAssertEqual(try NumpyArray.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", body: [0, 0, 0x80, 0x3F]),
                                             path: "s.npy"), Tensor(shape: [], data: [1]))
        XCTAssertEqual(try NumpyArray.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", body: [0, 0, 0x80, 0x3F]),
                                             path: "v.npy").shape, [1])
    }
}
