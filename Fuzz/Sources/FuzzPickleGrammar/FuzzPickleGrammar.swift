import Checkpoints
import Harness

// Structure-aware fuzzing of the checkpoint readers: the fuzz bytes are not the file but a program that
// writes one. Each byte picks an opcode production of a pickle grammar (containers, memo PUT/GET, allowed
// and forbidden globals, REDUCE / NEWOBJ / BUILD, persistent storage ids, whole tensor rebuilds, embedded
// storage blobs), later bytes its operands (memo slots, numbers from a table of edge values, dictionary
// strings). The first byte picks the container: a plain pickle, a legacy torch.save file or a torch zip
// archive around it, with storage records sized from the pickle's own storage ids. Blind byte mutation
// rarely gets past the first malformed opcode; this way most inputs reach memo, BUILD, REDUCE, storage
// and tensor code.

/// Reads choices from the fuzz bytes; when they run out every choice is 0 (the generator then stops).
struct Choices {
    var bytes: ArraySlice<UInt8>
    var exhausted: Bool { bytes.isEmpty }
    mutating func next() -> Int { bytes.popFirst().map(Int.init) ?? 0 }
    mutating func pick<T>(_ table: [T]) -> T { table[next() % table.count] }
}

/// Numbers where sizes, offsets and counts break.
let edgeInts: [Int] = [0, 1, 2, 3, 4, 7, 16, 255, 256, 65535, -1, -2, Int(Int32.max), Int(Int32.min), 1 << 32,
                       Int.max, Int.min, Int.max / 2, Int.max / 4 + 1, Int.max / 8, 1 << 62, 1 << 40]

let strings: [String] = [
    "G_ema", "_modules", "_parameters", "_buffers", "_non_persistent_buffers_set", "state_dict", "latent_avg", "opts",
    "encoder.w", "encoder.b", "decoder.backbone.x", "rendering_kwargs", "class_name", "state", "storage", "cpu",
    "0", "1", "2", "latin1", "little_endian", "TriPlaneGenerator", "superresolution_module",
    "training.superresolution.SuperresolutionHybrid8XDC", "conv_clamp", "backbone", "synthesis", "encoder_type",
    "Encoder4Editing", "f4", "f8", "<", ">", "", "\u{e9}\u{ff}",
]

let globals: [(String, String)] = [
    ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_parameter"),
    ("torch.storage", "_load_from_bytes"), ("collections", "OrderedDict"), ("torch_utils.persistence", "_reconstruct_persistent_obj"),
    ("numpy.core.multiarray", "scalar"), ("numpy", "dtype"), ("_codecs", "encode"), ("builtins", "set"), ("__builtin__", "frozenset"),
    ("dnnlib.util", "EasyDict"), ("training.triplane", "OSGDecoder"), ("torch.nn.modules.container", "Sequential"),
    ("torch", "FloatStorage"), ("torch", "HalfStorage"), ("torch", "LongStorage"), ("torch", "ByteStorage"), ("torch", "BFloat16Storage"),
    ("os", "system"),
]

let storageTypes = ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage", "ByteStorage", "BoolStorage"]
let elementSize = ["FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8, "LongStorage": 8, "IntStorage": 4, "ByteStorage": 1, "BoolStorage": 1]

/// Storage ids a pickle used, for the container to give them records: key → (type, declared elements).
typealias Storages = [String: (type: String, numel: Int)]

func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

struct PickleWriter {
    var out: [UInt8] = [0x80, 0x02]
    var memo = 0
    var storages: Storages = [:]
    /// A STOP production ends the program: a short prefix that reads cleanly is a whole input, so the
    /// fuzzer can grow programs whose result reaches the converters (most random tails would fail first).
    var stopped = false
    /// Embedded blobs may not embed others (the reader refuses that too, but the generator need not nest).
    let nested: Bool

    mutating func str(_ s: String) { let u = Array(s.utf8); out += [0x58] + le(u.count, 4) + u }
    mutating func int(_ v: Int) {
        if (0..<256).contains(v) { out += [0x4B, UInt8(v)] }
        else if let x = Int32(exactly: v) { out += [0x4A] + le(Int(x), 4) }
        else { out += [0x8A, 8] + le(v, 8) }
    }
    mutating func global(_ m: String, _ n: String) { out += [0x63] + Array("\(m)\n\(n)\n".utf8) }

    /// ('storage', torch.<type>, key, 'cpu', numel) as BINPERSID.
    mutating func persistentStorage(_ c: inout Choices) {
        let type = c.pick(storageTypes), key = "\(c.next() % 4)"
        let numel = c.next() % 3 == 0 ? c.pick(edgeInts) : c.next() % 17
        out += [0x28]; str("storage"); global("torch", type); str(key); str("cpu"); int(numel); out += [0x74, 0x51]
        if storages[key] == nil { storages[key] = (type, numel) }
    }

    /// A tuple of up to 4 sizes or strides: mostly small, sometimes an edge value.
    mutating func dims(_ c: inout Choices) {
        out += [0x28]
        for _ in 0..<(c.next() % 5) { int(c.next() % 3 == 0 ? c.pick(edgeInts) : c.next() % 5) }
        out += [0x74]
    }

    /// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
    mutating func tensor(_ c: inout Choices) {
        global("torch._utils", "_rebuild_tensor_v2")
        out += [0x28]
        persistentStorage(&c)
        int(c.next() % 4 == 0 ? c.pick(edgeInts) : c.next() % 8)
        dims(&c)
        dims(&c)
        out += [0x89]
        global("collections", "OrderedDict"); out += [0x29, 0x52, 0x74, 0x52]
    }

    /// An embedded legacy file (torch.storage._load_from_bytes's argument) around one storage id.
    mutating func blob(_ c: inout Choices) {
        var inner = PickleWriter(nested: true)
        inner.persistentStorage(&c)
        inner.out.append(0x2E)
        let file = legacyFile(object: inner.out, storages: inner.storages, &c)
        global("torch.storage", "_load_from_bytes")
        out += [0x42] + le(file.count, 4) + file + [0x85, 0x52]
    }

    mutating func step(_ c: inout Choices) {
        switch c.next() % 35 {
        case 0: out.append(0x7D) // EMPTY_DICT
        case 1: out.append(0x5D) // EMPTY_LIST
        case 2: out.append(0x29) // EMPTY_TUPLE
        case 3: out.append(0x28) // MARK
        case 4: out.append(0x74) // TUPLE
        case 5: out.append(UInt8(0x85 + c.next() % 3)) // TUPLE1..3
        case 6: out.append(0x6C) // LIST
        case 7: out.append(0x64) // DICT
        case 8: out.append(0x73) // SETITEM
        case 9: out.append(0x75) // SETITEMS
        case 10: out.append(0x61) // APPEND
        case 11: out.append(0x65) // APPENDS
        case 12: int(c.next())
        case 13: int(c.pick(edgeInts))
        case 14: str(c.pick(strings))
        case 15: let n = c.next() % 9; out += [0x43, UInt8(n)] + [UInt8](repeating: UInt8(c.next()), count: n) // SHORT_BINBYTES
        case 16: let g = c.pick(globals); global(g.0, g.1)
        case 17: out.append(0x52) // REDUCE
        case 18: out.append(0x81) // NEWOBJ
        case 19: out.append(0x62) // BUILD
        case 20: out.append(0x32) // DUP
        case 21: out.append(0x30) // POP
        case 22: out += [0x72] + le(memo, 4); memo += 1 // LONG_BINPUT
        case 23: out.append(0x94); memo += 1 // MEMOIZE
        case 24: out += [0x6A] + le(memo == 0 ? c.next() : c.next() % memo, 4) // LONG_BINGET
        case 25: out.append(c.pick([0x4E, 0x88, 0x89])) // None, True, False
        case 26: out += [0x47] + le(Int(bitPattern: UInt(c.pick([0.5, -1.0, .nan, .infinity, 1e300] as [Double]).bitPattern.byteSwapped)), 8)
        case 27: persistentStorage(&c)
        case 28: tensor(&c)
        case 29: if !nested { blob(&c) }
        case 30: out.append(0x8F) // EMPTY_SET
        case 31: out.append(0x90) // ADDITEMS
        case 32: out.append(0x31) // POP_MARK
        case 33: stopped = true
        default: out.append(UInt8(c.next())) // any opcode, for what the grammar leaves out
        }
    }
}

/// A legacy torch.save file: magic, version, sys_info, `object`, the key list and each storage's records,
/// sized as declared where that is small, cut short otherwise (or when the fuzz bytes say so).
func legacyFile(object: [UInt8], storages: Storages, _ c: inout Choices) -> [UInt8] {
    var out: [UInt8] = [0x80, 0x02, 0x8A, 10, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
    var info = PickleWriter(nested: true)
    info.out.append(0x7D); info.str("little_endian"); info.out += [0x88, 0x73, 0x2E]
    out += info.out + object
    var keys = PickleWriter(nested: true)
    let listed = storages.keys.sorted()
    keys.out.append(0x5D)
    for k in listed { keys.str(k); keys.out.append(0x61) }
    keys.out.append(0x2E)
    out += keys.out
    for k in listed {
        let s = storages[k]!
        out += le(s.numel, 8)
        let n = (0...64).contains(s.numel) && c.next() % 8 != 0 ? s.numel * elementSize[s.type]! : c.next() % 8
        out += [UInt8](repeating: 0x3F, count: n)
    }
    return out
}

/// A STORED zip archive as torch.save writes it: archive/data.pkl and archive/data/<key>.
func zipFile(pickle: [UInt8], storages: Storages, _ c: inout Choices) -> [UInt8] {
    var records: [(String, [UInt8])] = [("archive/data.pkl", pickle)]
    for k in storages.keys.sorted() {
        let s = storages[k]!
        let n = (0...64).contains(s.numel) && c.next() % 8 != 0 ? s.numel * elementSize[s.type]! : c.next() % 8
        records.append(("archive/data/\(k)", [UInt8](repeating: 0x3F, count: n)))
    }
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in records {
        let offset = out.count, n = Array(name.utf8)
        out += le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
        out += le(data.count, 4) + le(data.count, 4) + le(n.count, 2) + le(0, 2) + n + data
        central += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
        central += le(data.count, 4) + le(data.count, 4) + le(n.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        central += le(offset, 4) + n
    }
    let cd = out.count
    out += central
    out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(records.count, 2) + le(records.count, 2)
    out += le(central.count, 4) + le(cd, 4) + le(0, 2)
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var c = Choices(bytes: bytes(data, size)[...])
    let container = c.next() % 3
    var w = PickleWriter(nested: false)
    // A bounded program: at most 4096 productions, whatever the input's length.
    var steps = 0
    while !c.exhausted, !w.stopped, steps < 4096 { w.step(&c); steps += 1 }
    w.out.append(0x2E)
    let file: [UInt8]
    switch container {
    case 0: file = w.out
    case 1: file = legacyFile(object: w.out, storages: w.storages, &c)
    default: file = zipFile(pickle: w.out, storages: w.storages, &c)
    }
    _ = try? ModelImporter.inspect(file[...], file: "fuzz.pt")
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzPickleGrammar_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
