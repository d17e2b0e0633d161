// Hostile pickles and legacy torch.save files built opcode by opcode in the tests, so each regression
// input is readable where it is used.

struct PickleBytes {
    var b: [UInt8] = [0x80, 0x02]

    mutating func op(_ o: UInt8) { b.append(o) }
    mutating func global(_ module: String, _ name: String) { b += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    mutating func str(_ s: String) {
        let u = Array(s.utf8)
        b += [0x58] + le(u.count, 4) + u
    }
    mutating func int(_ v: Int) {
        if (0..<256).contains(v) { b += [0x4B, UInt8(v)] } else { b += [0x8A, 8] + le(v, 8) }
    }
    mutating func put(_ i: Int) { b += [0x72] + le(i, 4) }
    mutating func get(_ i: Int) { b += [0x6A] + le(i, 4) }

    static let mark: UInt8 = 0x28, stop: UInt8 = 0x2E, dup: UInt8 = 0x32, none: UInt8 = 0x4E, falseOp: UInt8 = 0x89
    static let emptyTuple: UInt8 = 0x29, tuple: UInt8 = 0x74, tuple2: UInt8 = 0x86, emptyList: UInt8 = 0x5D
    static let emptyDict: UInt8 = 0x7D, setItem: UInt8 = 0x73, appends: UInt8 = 0x65, append: UInt8 = 0x61
    static let reduce: UInt8 = 0x52, newObj: UInt8 = 0x81, build: UInt8 = 0x62, binPersId: UInt8 = 0x51

    func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// `[module.name(*args) for _ in range(times + 1)]` with the global memoized as 0 and `args` (which
    /// pushes `argCount` values, memoizing them as 1…argCount) reused from the memo on every later call.
    static func repeatedCall(_ module: String, _ name: String, times: Int, argCount: Int, tupleOp: UInt8,
                             _ args: (inout PickleBytes) -> Void) -> [UInt8] {
        var p = PickleBytes()
        p.op(emptyList); p.op(mark)
        p.global(module, name); p.put(0)
        args(&p)
        p.op(tupleOp); p.op(reduce)
        for _ in 0..<times {
            for i in 0...argCount { p.get(i) }
            p.op(tupleOp); p.op(reduce)
        }
        p.op(appends); p.op(stop)
        return p.b
    }
}

/// A legacy torch.save file holding {name: tensor} over one storage per entry (torch/serialization.py
/// _legacy_save): `listed` storages get `bytes` after the key list; the rest are declared only.
struct LegacyFile {
    struct Entry {
        var name: String
        var key: String
        var storageType = "FloatStorage"
        var numel: Int
        var offset = 0
        var shape: [Int]
        var strides: [Int]
        var data: [UInt8]? = nil
    }

    /// Magic number, protocol version and sys_info: the three pickles before the object.
    static var preamble: [UInt8] {
        var out: [UInt8] = [0x80, 0x02, 0x8A, 10] + [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19] + [0x2E]
        out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
        var info = PickleBytes()
        info.op(PickleBytes.emptyDict); info.str("little_endian"); info.op(0x88); info.op(PickleBytes.setItem); info.op(PickleBytes.stop)
        return out + info.b
    }

    /// What torch.storage._load_from_bytes reads in a network pickle: a legacy file whose object is one
    /// byte storage of `numel` zeros.
    static func storageBlob(numel: Int) -> [UInt8] {
        var p = PickleBytes()
        p.op(PickleBytes.mark); p.str("storage"); p.global("torch", "ByteStorage"); p.str("0"); p.str("cpu"); p.int(numel)
        p.op(PickleBytes.none); p.op(PickleBytes.tuple); p.op(PickleBytes.binPersId); p.op(PickleBytes.stop)
        var keys = PickleBytes()
        keys.op(PickleBytes.emptyList); keys.str("0"); keys.op(PickleBytes.append); keys.op(PickleBytes.stop)
        return preamble + p.b + keys.b + keys.le(numel, 8) + [UInt8](repeating: 0, count: numel)
    }

    static func make(_ entries: [Entry]) -> [UInt8] {
        var out = preamble
        var p = PickleBytes()
        p.op(PickleBytes.emptyDict)
        for e in entries {
            p.str(e.name)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(PickleBytes.mark)
            p.op(PickleBytes.mark); p.str("storage"); p.global("torch", e.storageType); p.str(e.key); p.str("cpu"); p.int(e.numel)
            p.op(PickleBytes.none); p.op(PickleBytes.tuple); p.op(PickleBytes.binPersId)
            p.int(e.offset)
            p.op(PickleBytes.mark); for s in e.shape { p.int(s) }; p.op(PickleBytes.tuple)
            p.op(PickleBytes.mark); for s in e.strides { p.int(s) }; p.op(PickleBytes.tuple)
            p.op(PickleBytes.falseOp)
            p.global("collections", "OrderedDict"); p.op(PickleBytes.emptyTuple); p.op(PickleBytes.reduce)
            p.op(PickleBytes.tuple); p.op(PickleBytes.reduce)
            p.op(PickleBytes.setItem)
        }
        p.op(PickleBytes.stop)
        out += p.b
        var keys = PickleBytes()
        keys.op(PickleBytes.emptyList)
        for e in entries where e.data != nil { keys.str(e.key); keys.op(PickleBytes.append) }
        keys.op(PickleBytes.stop)
        out += keys.b
        for e in entries { if let d = e.data { out += keys.le(e.numel, 8) + d } }
        return out
    }
}
