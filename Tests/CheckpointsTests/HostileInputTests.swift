import Foundation
import Models
import Tensors
import XCTest
@testable import Checkpoints

/// Checkpoints a stranger could hand over: each gets one clear error naming the problem, and no bundle
/// (nor a partial folder) is left behind.
final class HostileInputTests: XCTestCase {
    /// Writes `bytes` as a checkpoint, imports it, and returns the error; asserts the output folder's
    /// parent holds nothing afterwards.
    func importError(_ bytes: [UInt8], name: String = "bad.pt", file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let input = tmp.appendingPathComponent(name)
        try! Data(bytes).write(to: input)
        let outParent = tmp.appendingPathComponent("models")
        try! FileManager.default.createDirectory(at: outParent, withIntermediateDirectories: true)
        var caught: Error?
        do {
            _ = try ModelImporter.run(ImportRequest(file: input, output: outParent.appendingPathComponent("out")))
            XCTFail("imported a hostile checkpoint", file: file, line: line)
        } catch { caught = error }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: outParent.path)) ?? []
        XCTAssertEqual(left, [], "left behind: \(left)", file: file, line: line)
        return caught
    }

    func fixtureBytes(_ name: String) -> [UInt8] { [UInt8](try! Data(contentsOf: CheckpointFixtures.url(name))) }

    func testGlobalOutsideTheAllowListIsRefusedByName() {
        // pickle.dumps of a REDUCE of os.system("ls"), protocol 2.
        let evil: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x71, 0x00, 0x58, 0x02, 0x00, 0x00, 0x00] + Array("ls".utf8)
            + [0x85, 0x52, 0x2E]
        let e = importError(evil, name: "evil.pkl")
        guard case let .forbiddenGlobal(_, name)? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
        XCTAssertEqual(name, "os.system")
        XCTAssertTrue("\(e!)".contains("os.system"))
    }

    func testGlobalInsideAStorageBlobIsRefusedToo() {
        // A module global where the EG3D pickle names its first storage blob's class.
        var b = fixtureBytes("eg3d-nrr128.pkl")
        let needle = Array("FloatStorage".utf8)
        guard let i = b.firstRange(of: needle) else { return XCTFail("no FloatStorage in the pickle") }
        b.replaceSubrange(i, with: Array("FloatStorag_".utf8))
        let e = importError(b, name: "evil.pkl")
        XCTAssertTrue("\(e!)".contains("torch.FloatStorag_"), "\(e!)")
    }

    func testTruncatedPickle() {
        let b = fixtureBytes("eg3d-nrr128.pkl")
        let e = importError(Array(b[0..<(b.count / 2)]), name: "cut.pkl")
        guard case .malformedPickle? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue("\(e!)".contains("truncated"), "\(e!)")
    }

    func testTruncatedLegacyFile() {
        let b = fixtureBytes("e4e-legacy.pt")
        let e = importError(Array(b[0..<(b.count - 100)]))
        XCTAssertTrue("\(e!)".contains("runs past the end"), "\(e!)")
    }

    func testZipMissingAStorage() {
        // Rename record best_model/data/7 (local and central headers) so the storage has no data.
        var b = fixtureBytes("e4e-zip.pt")
        let name = Array("best_model/data/7".utf8)
        var count = 0, from = 0
        while let r = b[from...].firstRange(of: name) {
            from = r.upperBound
            // Not a prefix of data/70…79.
            guard !(0x30...0x39).contains(b[r.upperBound]) else { continue }
            b.replaceSubrange(r, with: Array("best_model/dat_/7".utf8))
            count += 1
        }
        XCTAssertEqual(count, 2)
        let e = importError(b)
        XCTAssertTrue("\(e!)".contains("record 'best_model/data/7' of storage '7' is missing"), "\(e!)")
    }

    /// e4e-zip.pt with encoder.latlayer1.bias (16 values) recorded as shape [size].
    func latlayer1BiasRecorded(as size: UInt8) -> [UInt8]? {
        var b = fixtureBytes("e4e-zip.pt")
        guard let k = b.firstRange(of: Array("encoder.latlayer1.bias".utf8)),
              let s = b[k.upperBound...].firstRange(of: [0x51, 0x4B, 0x00, 0x4B, 0x10, 0x85]) else { return nil }
        b[s.lowerBound + 4] = size
        return b
    }

    func testWrongShapes() throws {
        let b = try XCTUnwrap(latlayer1BiasRecorded(as: 8))
        let e = importError(b)
        XCTAssertTrue("\(e!)".contains("latlayer1.bias: expected shape [16], found [8]"), "\(e!)")
    }

    func testViewPastItsStorage() throws {
        let b = try XCTUnwrap(latlayer1BiasRecorded(as: 32))
        let e = importError(b)
        XCTAssertTrue("\(e!)".contains("16-element storage"), "\(e!)")
    }

    func testNotACheckpoint() {
        let e = importError(Array("hello, world".utf8), name: "notes.txt")
        guard case .unknownFormat? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
    }

    func testUnsupportedSuperResolutionIsNamed() throws {
        // The same snapshot, its rendering_kwargs naming the 2X super-resolution of the 128² layouts.
        var b = fixtureBytes("eg3d-nrr128.pkl")
        let from = Array("training.superresolution.SuperresolutionHybrid8XDC".utf8)
        let to = Array("training.superresolution.SuperresolutionHybrid2X\u{20}\u{20}".utf8)
        XCTAssertEqual(from.count, to.count)
        var n = 0
        while let r = b.firstRange(of: from) { b.replaceSubrange(r, with: to); n += 1 }
        XCTAssertGreaterThan(n, 0)
        let e = importError(b, name: "shapenet.pkl")
        XCTAssertTrue("\(e!)".contains("SuperresolutionHybrid2X"), "\(e!)")
        guard case .unsupportedModel? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
    }

    func testExistingOutputIsNotOverwritten() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let out = tmp.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("e4e-zip.pt"), output: out)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [])
    }

    // MARK: issue 29: inputs that crashed, hung or exhausted the importer, built opcode by opcode

    /// The reason of a malformedPickle error, or a failure naming what came instead.
    func pickleReason(_ e: Error?, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case let .malformedPickle(_, _, reason)? = e as? CheckpointError else {
            XCTFail("expected a malformed-pickle error, got \(String(describing: e))", file: file, line: line)
            return ""
        }
        return reason
    }

    /// Imports `bytes` and checks it fails within `seconds` (a hang or runaway allocation would not).
    func quickImportError(_ bytes: [UInt8], seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let start = Date()
        let e = importError(bytes, name: "hostile.pkl", file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(start), seconds, "took too long", file: file, line: line)
        return e
    }

    func testObjectThatIsItsOwnStateIsRefused() {
        // GLOBAL training.triplane OSGDecoder; EMPTY_TUPLE; NEWOBJ; DUP; BUILD; STOP: 37 bytes that
        // overflowed the stack when the importer looked up the object's dict.
        var p = PickleBytes()
        p.global("training.triplane", "OSGDecoder")
        p.op(PickleBytes.emptyTuple); p.op(PickleBytes.newObj); p.op(PickleBytes.dup); p.op(PickleBytes.build); p.op(PickleBytes.stop)
        XCTAssertEqual(p.b.count, 37)
        let e = quickImportError(p.b)
        XCTAssertTrue(pickleReason(e).contains("its own state"), "\(String(describing: e))")
        XCTAssertTrue("\(e!)".contains("hostile.pkl"), "\(e!)")
    }

    func testStateCycleThroughAnotherObjectIsRefused() {
        // a = OSGDecoder(); b = RaySampler(); b.__setstate__(a); a.__setstate__(b): a reaches itself in two hops.
        var p = PickleBytes()
        p.global("training.triplane", "OSGDecoder"); p.op(PickleBytes.emptyTuple); p.op(PickleBytes.newObj); p.put(0)
        p.global("training.volumetric_rendering.ray_sampler", "RaySampler"); p.op(PickleBytes.emptyTuple); p.op(PickleBytes.newObj); p.put(1)
        p.get(0); p.op(PickleBytes.build)
        p.get(0); p.get(1); p.op(PickleBytes.build); p.op(PickleBytes.stop)
        let e = quickImportError(p.b)
        XCTAssertTrue(pickleReason(e).contains("its own state"), "\(String(describing: e))")
    }

    func testDictLookupThroughACycleEnds() {
        // However a cycle of states was made, looking up a dict follows it a bounded number of hops.
        let arena = PickleArena()
        defer { arena.tearDown() }
        let a = arena.object("training.triplane.OSGDecoder", args: []), b = arena.object("dnnlib.util.EasyDict", args: [])
        a.state = .object(b)
        b.state = .object(a)
        XCTAssertNil(PickleValue.object(a).dict)
        let d = arena.dict()
        b.state = .dict(d)
        XCTAssertTrue(PickleValue.object(a).dict === d)
    }

    func testEasyDictBuiltWithItselfIsRefused() {
        // EasyDict() with one None key (never de-duplicated), then DUP BUILD 40 times: each round
        // doubled the dict, 2⁴⁰ entries in all.
        var p = PickleBytes()
        p.global("dnnlib.util", "EasyDict"); p.op(PickleBytes.emptyTuple); p.op(PickleBytes.newObj)
        p.op(PickleBytes.none); p.op(PickleBytes.none); p.op(PickleBytes.setItem)
        for _ in 0..<40 { p.op(PickleBytes.dup); p.op(PickleBytes.build) }
        p.op(PickleBytes.stop)
        let e = quickImportError(p.b)
        XCTAssertTrue(pickleReason(e).contains("its own state"), "\(String(describing: e))")
    }

    func testEasyDictsMergedIntoEachOtherExhaustTheBudget() {
        // The same growth without a self-reference: two EasyDicts merged into each other in turn grow
        // as the Fibonacci numbers; the budget stops them long before memory runs out.
        var p = PickleBytes()
        for i in 0..<2 {
            p.global("dnnlib.util", "EasyDict"); p.op(PickleBytes.emptyTuple); p.op(PickleBytes.newObj)
            p.op(PickleBytes.none); p.op(PickleBytes.none); p.op(PickleBytes.setItem); p.put(i)
        }
        for r in 0..<80 { p.get(r % 2); p.get(1 - r % 2); p.op(PickleBytes.build); p.op(0x30) }
        p.op(PickleBytes.stop)
        let e = quickImportError(p.b)
        XCTAssertTrue(pickleReason(e).contains("budget"), "\(String(describing: e))")
    }

    func testMemoizedEncodeArgumentsExhaustTheBudget() {
        // One 64 KiB string memoized, then _codecs.encode on it 24 000 times into a list: 257 KB that
        // made the importer allocate 1.7 GB, each call copying the string.
        let b = PickleBytes.repeatedCall("_codecs", "encode", times: 24_000, argCount: 2, tupleOp: PickleBytes.tuple2) { p in
            p.str(String(repeating: "a", count: 1 << 16)); p.put(1)
            p.str("latin1"); p.put(2)
        }
        XCTAssertGreaterThan(b.count, 250_000)
        let e = quickImportError(b)
        XCTAssertTrue(pickleReason(e).contains("_codecs.encode makes the reader exceed its budget"), "\(String(describing: e))")
    }

    func testMemoizedOrderedDictArgumentsExhaustTheBudget() {
        // A list of 4096 (key, value) pairs memoized, then OrderedDict(pairs) 20 000 times.
        let b = PickleBytes.repeatedCall("collections", "OrderedDict", times: 20_000, argCount: 1, tupleOp: 0x85) { p in
            p.op(PickleBytes.emptyList); p.op(PickleBytes.mark)
            for i in 0..<4096 { p.int(i); p.op(PickleBytes.none); p.op(PickleBytes.tuple2) }
            p.op(PickleBytes.appends); p.put(1)
        }
        let e = quickImportError(b)
        XCTAssertTrue(pickleReason(e).contains("OrderedDict makes the reader exceed its budget"), "\(String(describing: e))")
    }

    func testRepeatedDupAndGetExhaustTheBudgetNotMemory() {
        // One list pushed again and again: each stack entry costs more than the byte that made it, so enough
        // DUPs run out of budget instead of filling memory.
        XCTAssertGreaterThan(ReadBudget.item, ReadBudget.perInputByte)
        let n = 2 * ReadBudget.floor / (ReadBudget.item - ReadBudget.perInputByte)
        var p = PickleBytes()
        p.op(PickleBytes.emptyList); p.put(0)
        p.b += [UInt8](repeating: PickleBytes.dup, count: n)
        p.op(PickleBytes.stop)
        let e = quickImportError(p.b)
        XCTAssertTrue(pickleReason(e).contains("budget"), "\(String(describing: e))")
    }

    func testStorageBlobLoadedOverAndOverExhaustsTheBudget() {
        // One memoized _load_from_bytes argument loaded many times: each load reads the blob again.
        let blob = LegacyFile.storageBlob(numel: 60_000)
        let b = PickleBytes.repeatedCall("torch.storage", "_load_from_bytes", times: 2_000, argCount: 1, tupleOp: 0x85) { p in
            p.b += [0x42] + p.le(blob.count, 4) + blob; p.put(1)
        }
        let e = quickImportError(b)
        XCTAssertTrue(pickleReason(e).contains("loading a storage blob makes the reader exceed its budget"), "\(String(describing: e))")
    }

    func testBudgetScalesWithTheFileAndOverflowsNothing() {
        let small = ReadBudget(inputSize: 1000, file: "f"), huge = ReadBudget(inputSize: Int.max, file: "f")
        XCTAssertEqual(small.limit, 16 * 1000 + (32 << 20))
        XCTAssertEqual(huge.limit, Int.max)
        XCTAssertNoThrow(try small.charge(small.limit, "all of it", offset: 0))
        XCTAssertThrowsError(try small.charge(1, "one more", offset: 0))
        XCTAssertThrowsError(try huge.chargeItems(Int.max, "too many", offset: 0))
        XCTAssertThrowsError(try huge.charge(-1, "a negative charge", offset: 0))
    }

    // MARK: shapes, strides, offsets and counts

    func storage(_ values: [Float]) -> TorchStorage {
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return TorchStorage(key: "0", dtype: .float32, location: "cpu", count: values.count, bytes: bytes[...])
    }

    func testZeroSizedDimensionBeforeHugeOnesIsAnEmptyTensor() throws {
        let big = Int.max / 4
        let t = try TorchTensorRef(storage: storage([1, 2]), offset: 0, shape: [0, big, big], strides: [1, 1, 1]).materialize(file: "f", name: "w")
        XCTAssertEqual(t.count, 0)
        // The other order overflows the element count: an error, not a trap.
        XCTAssertThrowsError(try TorchTensorRef(storage: storage([1, 2]), offset: 0, shape: [big, big, 0], strides: [1, 1, 1]).materialize(file: "f", name: "w")) {
            XCTAssertTrue("\($0)".contains("overflows"), "\($0)")
        }
    }

    func testSizeOneDimensionWithAHugeStrideIsNeverStepped() throws {
        // shape [1, 2], strides [Int.max, 2]: the walk added the huge stride after the last element.
        let t = try TorchTensorRef(storage: storage([1, 2, 3, 4]), offset: 0, shape: [1, 2], strides: [Int.max, 2]).materialize(file: "f", name: "w")
        XCTAssertEqual(t.data, [1, 3])
        let u = try TorchTensorRef(storage: storage([1, 2, 3, 4]), offset: 1, shape: [2, 1, 1], strides: [2, Int.max, Int.max]).materialize(file: "f", name: "w")
        XCTAssertEqual(u.data, [2, 4])
    }

    func testHugeOffsetsAndStridesAreErrors() {
        let s = storage([1, 2, 3, 4])
        for (offset, shape, strides) in [(Int.max, [2], [1]), (0, [2, 2], [Int.max, 1]), (0, [3], [Int.max / 2]), (-1, [1], [1]), (0, [2], [-1])] {
            XCTAssertThrowsError(try TorchTensorRef(storage: s, offset: offset, shape: shape, strides: strides).materialize(file: "f", name: "w"),
                                 "offset \(offset) shape \(shape) strides \(strides)")
        }
    }

    func testHostileViewsInALegacyFileEndInOneError() {
        let data = [UInt8](repeating: 0, count: 16)
        let big = Int.max / 4
        let files: [(String, [LegacyFile.Entry])] = [
            ("zero before huge", [.init(name: "w", key: "0", numel: 4, shape: [0, big, big], strides: [1, 1, 1], data: data)]),
            ("size-1 huge stride", [.init(name: "w", key: "0", numel: 4, shape: [1, 2], strides: [Int.max, 2], data: data)]),
            ("huge offset", [.init(name: "w", key: "0", numel: 4, offset: Int.max, shape: [2], strides: [1], data: data)]),
        ]
        for (what, entries) in files {
            let e = quickImportError(LegacyFile.make(entries))
            XCTAssertNotNil(e, what)
            XCTAssertTrue("\(e!)".contains("hostile.pkl"), "\(what): \(e!)")
        }
    }

    func testDeclaredStorageCountsAreNotSummed() {
        // Two storages that declare Int.max / 2 bytes each and hold none: the memory budget summed the
        // declared counts and overflowed.
        let huge = Int.max / 2
        let entries: [LegacyFile.Entry] = [
            .init(name: "a", key: "0", storageType: "ByteStorage", numel: huge, shape: [1], strides: [1]),
            .init(name: "b", key: "1", storageType: "ByteStorage", numel: huge, shape: [1], strides: [1]),
        ]
        let e = quickImportError(LegacyFile.make(entries))
        guard case .badTensor? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue("\(e!)".contains("has no data in the file"), "\(e!)")
    }

    func testTensorsOverOverlappingStoragesAreBoundedByTheFile() throws {
        // Many storages whose bytes are the same stretch of the file: their elements together may not
        // exceed twice the bytes they cover.
        let bytes = [UInt8](repeating: 0, count: 1 << 20)
        var sd = StateDict(file: "f")
        for i in 0..<8 {
            let s = TorchStorage(key: "\(i)", dtype: .uint8, location: "cpu", count: bytes.count, bytes: bytes[...])
            try sd.add("t\(i)", TorchTensorRef(storage: s, offset: 0, shape: [bytes.count], strides: [1]))
        }
        XCTAssertThrowsError(try sd.materialize()) { XCTAssertTrue("\($0)".contains("more than twice"), "\($0)") }
    }

    func testSharedSubmodulesCannotMultiplyTheWalk() {
        // Each level's two children are the same module, 16 levels deep: 65 535 visits, each looking at 20
        // (None) parameters, from a pickle of a few hundred bytes.
        let arena = PickleArena()
        defer { arena.tearDown() }
        func module(children: PickleValue?) -> PickleValue {
            let state = arena.dict(), params = arena.dict()
            for i in 0..<20 { params.set(.string("p\(i)"), .none) }
            state.set(.string("_parameters"), .dict(params))
            if let c = children {
                let mods = arena.dict()
                mods.set(.string("a"), c)
                mods.set(.string("b"), c)
                state.set(.string("_modules"), .dict(mods))
            }
            let o = arena.object("training.triplane.OSGDecoder", args: [])
            o.state = .dict(state)
            return .object(o)
        }
        var m = module(children: nil)
        for _ in 0..<16 { m = module(children: m) }
        XCTAssertThrowsError(try StateDict.fromModule(m, file: "shared.pkl")) {
            XCTAssertTrue("\($0)".contains("shared.pkl") && "\($0)".contains("parameters and buffers (shared submodules?)"), "\($0)")
        }
    }
}
