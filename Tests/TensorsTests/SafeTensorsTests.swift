import Foundation
import XCTest
@testable import Tensors

final class SafeTensorsTests: XCTestCase {
    /// Builds a file from a raw header dictionary and data bytes.
    func file(header: [String: Any], data: [UInt8]) throws -> Data {
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(contentsOf: data)
        return out
    }

    func testRoundTrip() throws {
        let a = Tensor(shape: [2, 3], data: [1, -2, 3.5, 0, 1e-8, 7])
        let b = Tensor(scalar: 0.25)
        let data = try SafeTensorsWriter.encode(["a": a, "b": b], metadata: ["k": "v"])
        let f = try SafeTensorsFile(data: data, path: "mem")
        XCTAssertEqual(try f.tensor("a"), a)
        XCTAssertEqual(try f.tensor("b"), b)
        XCTAssertEqual(f.metadata["k"], "v")
        XCTAssertEqual(f.names, ["a", "b"])
    }

    func testHalfAndBFloat16() throws {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, smallest subnormal 0x0001; BF16: 1.0 = 0x3F80, -3.0 = 0xC040.
        let f16: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x0001]
        let bf16: [UInt16] = [0x3F80, 0xC040]
        var bytes: [UInt8] = []
        for h in f16 + bf16 { bytes += [UInt8(h & 0xFF), UInt8(h >> 8)] }
        let d = try file(header: ["h": ["dtype": "F16", "shape": [4], "data_offsets": [0, 8]],
                                  "b": ["dtype": "BF16", "shape": [2], "data_offsets": [8, 12]]], data: bytes)
        let f = try SafeTensorsFile(data: d, path: "mem")
        XCTAssertEqual(try f.tensor("h").data, [1, -2, 0.5, Float(sign: .plus, exponent: -24, significand: 1)])
        XCTAssertEqual(try f.tensor("b").data, [1, -3])
    }

    /// A file on disk is read with pread, tensor by tensor: every dtype converts as from bytes in memory,
    /// and a file cut short or missing is named in its error.
    func testFileReadsMatchBytesInMemory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes: [UInt8] = []
        for v: Float in [1, -2.5, 3e-7] { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
        for h: UInt16 in [0x3C00, 0xC000, 0x3F80, 0xC040] { bytes += [UInt8(h & 0xFF), UInt8(h >> 8)] }
        bytes += withUnsafeBytes(of: Int64(-42).littleEndian, Array.init)
        let d = try file(header: ["f": ["dtype": "F32", "shape": [3], "data_offsets": [0, 12]],
                                  "h": ["dtype": "F16", "shape": [2], "data_offsets": [12, 16]],
                                  "b": ["dtype": "BF16", "shape": [2], "data_offsets": [16, 20]],
                                  "i": ["dtype": "I64", "shape": [1], "data_offsets": [20, 28]],
                                  "e": ["dtype": "F32", "shape": [0], "data_offsets": [28, 28]]], data: bytes)
        let url = dir.appendingPathComponent("t.safetensors")
        try d.write(to: url)
        let onDisk = try SafeTensorsFile(url: url), inMemory = try SafeTensorsFile(data: d, path: "mem")
        XCTAssertEqual(onDisk.names, inMemory.names)
        for name in inMemory.names { XCTAssertEqual(try onDisk.tensor(name), try inMemory.tensor(name), name) }
        XCTAssertEqual(try onDisk.tensor("f").data, [1, -2.5, 3e-7])
        XCTAssertEqual(try onDisk.tensor("i").data, [-42])

        let short = dir.appendingPathComponent("short.safetensors")
        try d.prefix(d.count - 4).write(to: short)
        XCTAssertThrowsError(try SafeTensorsFile(url: short)) { e in
            guard case .badEntry = e as? SafeTensorsError else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains(short.path))
        }
        let missing = dir.appendingPathComponent("missing.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(url: missing)) { e in
            guard case .unreadable(missing.path, _) = e as? SafeTensorsError else { return XCTFail("\(e)") }
        }
    }

    func testRejectsBadFilesWithNamedErrors() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        func expect(_ header: [String: Any], _ data: [UInt8], _ check: (SafeTensorsError) -> Bool, line: UInt = #line) throws {
            let d = try file(header: header, data: data)
            XCTAssertThrowsError(try SafeTensorsFile(data: d, path: "bad.safetensors"), line: line) { e in
                guard let e = e as? SafeTensorsError else { return XCTFail("wrong error \(e)", line: line) }
                XCTAssertTrue(check(e), "\(e)", line: line)
                XCTAssertTrue(e.description.contains("bad.safetensors"), line: line)
            }
        }
        try expect(["x": ["dtype": "F32", "shape": [2], "data_offsets": [0, 12]]], eight) {
            if case .badEntry(_, "x", _) = $0 { return true } else { return false }
        }
        try expect(["x": ["dtype": "F32", "shape": [3], "data_offsets": [0, 8]]], eight) {
            if case .badEntry(_, "x", _) = $0 { return true } else { return false }
        }
        try expect(["x": ["dtype": "I32", "shape": [1], "data_offsets": [0, 4]]], eight) {
            $0 == .unknownDType(file: "bad.safetensors", tensor: "x", dtype: "I32")
        }
        try expect(["x": ["dtype": "F32", "shape": [2], "data_offsets": [0, 8]],
                    "y": ["dtype": "F32", "shape": [1], "data_offsets": [4, 8]]], eight) {
            if case .overlap = $0 { return true } else { return false }
        }
        XCTAssertThrowsError(try SafeTensorsFile(data: Data([1, 2, 3]), path: "t")) { e in
            XCTAssertEqual(e as? SafeTensorsError, .truncatedHeader(file: "t"))
        }
        var huge = Data([0xFF, 0xFF, 0, 0, 0, 0, 0, 0]); huge.append(contentsOf: eight)
        XCTAssertThrowsError(try SafeTensorsFile(data: huge, path: "t")) { e in
            guard case .badHeader = e as? SafeTensorsError else { return XCTFail("\(e)") }
        }
        let ok = try SafeTensorsFile(data: try file(header: [:], data: []), path: "t")
        XCTAssertThrowsError(try ok.tensor("nope")) { e in
            XCTAssertEqual(e as? SafeTensorsError, .missingTensor(file: "t", tensor: "nope"))
        }
    }

    /// JSONSerialization gives NSNumber for booleans, fractions and huge numbers alike; each must be
    /// refused with the value named, not truncated or wrapped into a plausible count.
    func testRefusesShapeAndOffsetEntriesThatAreNotCounts() throws {
        func refusal(_ shape: String, offsets: String = "[0, 8]") -> String? {
            var json = Data(#"{"x": {"dtype": "F32", "shape": \#(shape), "data_offsets": \#(offsets)}}"#.utf8)
            while json.count % 8 != 0 { json.append(0x20) }
            var d = Data()
            var n = UInt64(json.count).littleEndian
            withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            d.append(json)
            d.append(contentsOf: [UInt8](repeating: 0, count: 8))
            do {
                _ = try SafeTensorsFile(data: d, path: "bad.safetensors")
                return nil
            } catch let e as SafeTensorsError {
                guard case .badEntry("bad.safetensors", "x", _) = e else { return "wrong case: \(e)" }
                return e.description
            } catch { return "wrong error: \(error)" }
        }
        XCTAssertEqual(refusal("[2.5]"), "bad.safetensors: tensor 'x': shape entry 2.5 is not a whole number")
        XCTAssertEqual(refusal("[-2]"), "bad.safetensors: tensor 'x': shape entry -2 is negative")
        XCTAssertEqual(refusal("[true, 2]"), "bad.safetensors: tensor 'x': shape entry true is a boolean, not an integer")
        XCTAssertEqual(refusal("[false]"), "bad.safetensors: tensor 'x': shape entry false is a boolean, not an integer")
        XCTAssertEqual(refusal("[2.0]"), "bad.safetensors: tensor 'x': shape entry 2.0 is written as a decimal, not an integer")
        XCTAssertEqual(refusal("[1e30]"), "bad.safetensors: tensor 'x': shape entry 1e+30 does not fit in a 64-bit integer")
        XCTAssertEqual(refusal("[9223372036854775808]"),
                       "bad.safetensors: tensor 'x': shape entry 9223372036854775808 does not fit in a 64-bit integer")
        XCTAssertEqual(refusal("[99999999999999999999]"),
                       "bad.safetensors: tensor 'x': shape entry 99999999999999999999 does not fit in a 64-bit integer")
        XCTAssertEqual(refusal(#"["2"]"#), #"bad.safetensors: tensor 'x': shape entry "2" is not a number"#)
        XCTAssertEqual(refusal("[null]"), "bad.safetensors: tensor 'x': shape entry null is not a number")
        XCTAssertEqual(refusal("[2]", offsets: "[0, 8.5]"), "bad.safetensors: tensor 'x': data_offsets entry 8.5 is not a whole number")
        XCTAssertEqual(refusal("[2]", offsets: "[true, 8]"),
                       "bad.safetensors: tensor 'x': data_offsets entry true is a boolean, not an integer")
        // Products that overflow Int are refused too (each factor alone fits).
        XCTAssertEqual(refusal("[4294967296, 4294967296]"),
                       "bad.safetensors: tensor 'x': shape [4294967296, 4294967296] is too large for the file")
        // The well-formed file the helper builds reads.
        XCTAssertNil(refusal("[2]"))
    }
}
