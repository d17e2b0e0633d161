// The allow-list of globals the checkpoint formats use, and what each admitted call yields as data.
// torch (torch/_utils.py, torch/serialization.py, torch/storage.py): tensor and parameter rebuilders,
// typed storages, storage blobs; EG3D (torch_utils/persistence.py, dnnlib/util.py): persistent-module
// reconstruction and EasyDict; numpy scalars and dtypes; the protocol-2 spellings of bytes and set.
// Anything else is refused by name when the pickle first mentions it.

struct PickleGlobals {
    let file: String
    let nesting: Int
    /// The file's, charged for what each call copies or re-reads.
    let budget: ReadBudget

    /// Classes kept as opaque data (NEWOBJ + BUILD): EG3D's plain nn.Modules that sit inside a
    /// persistent generator (training/triplane.py, training/volumetric_rendering/*) and torch containers.
    static let opaqueClasses: Set<String> = [
        "training.triplane.OSGDecoder",
        "training.volumetric_rendering.renderer.ImportanceRenderer",
        "training.volumetric_rendering.ray_marcher.MipRayMarcher2",
        "training.volumetric_rendering.ray_sampler.RaySampler",
        "torch.nn.modules.container.Sequential",
        "torch.nn.modules.activation.Softplus",
        "dnnlib.util.EasyDict",
    ]

    static let functions: Set<String> = [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch.storage._load_from_bytes",
        "collections.OrderedDict",
        "torch_utils.persistence._reconstruct_persistent_obj",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
        "_codecs.encode", "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset",
    ]

    func resolve(module: String, name: String) throws -> PickleGlobal {
        let g = PickleGlobal(module: module, name: name)
        let full = g.fullName
        if Self.functions.contains(full) || Self.opaqueClasses.contains(full) { return g }
        if module == "torch", TorchDType(rawValue: name) != nil { return g }
        throw CheckpointError.forbiddenGlobal(file: file, name: full)
    }

    func malformed(_ reason: String, _ at: Int) -> CheckpointError {
        .malformedPickle(file: file, offset: at, reason: reason)
    }

    /// REDUCE of an allowed global: the data the call would have produced.
    func call(_ g: PickleGlobal, args: [PickleValue], arena: PickleArena, at: Int) throws -> PickleValue {
        func bad(_ what: String) -> CheckpointError { malformed("\(g.fullName): \(what)", at) }
        switch g.fullName {
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3":
            // (storage, storage_offset, size, stride, …)
            guard args.count >= 4, case let .storage(s) = args[0], let offset = args[1].asInt,
                  let size = args[2].items, let stride = args[3].items else { throw bad("expects (storage, offset, size, stride, …)") }
            try budget.chargeItems(size.count + stride.count, "\(g.name)'s size and stride", offset: at)
            let shape = size.compactMap(\.asInt), strides = stride.compactMap(\.asInt)
            guard shape.count == size.count, strides.count == stride.count else { throw bad("size and stride must be integers") }
            return .tensor(TorchTensorRef(storage: s, offset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = args.first, case .tensor = first else { throw bad("expects a tensor") }
            return first
        case "torch.storage._load_from_bytes":
            guard args.count == 1, case let .bytes(b) = args[0] else { throw bad("expects one bytes argument") }
            guard nesting == 0 else { throw bad("a storage blob inside a storage blob") }
            // One blob may be memoized and loaded many times: each load is charged as reading it anew.
            try budget.charge(b.count, "loading a storage blob", offset: at)
            return .storage(try LegacyTorchFile.storage(fromBlob: b, file: file, budget: budget))
        case "collections.OrderedDict":
            let d = arena.dict()
            if let first = args.first, let pairs = first.items {
                // A memoized pair list may be passed again and again; each call copies it.
                try budget.chargeItems(2 * pairs.count, "OrderedDict", offset: at)
                for p in pairs {
                    guard let kv = p.items, kv.count == 2 else { throw bad("expects (key, value) pairs") }
                    d.set(kv[0], kv[1])
                }
            }
            return .dict(d)
        case "torch_utils.persistence._reconstruct_persistent_obj":
            guard args.count == 1, let meta = args[0].dict else { throw bad("expects one meta dict") }
            guard let className = meta["class_name"]?.asString, let state = meta["state"] else {
                throw bad("meta dict lacks class_name or state")
            }
            let o = arena.object(className, args: [])
            o.state = state
            return .object(o)
        case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
            guard args.count == 2, case let .object(dt) = args[0], dt.className == "numpy.dtype",
                  case let .bytes(raw) = args[1] else { throw bad("expects (dtype, bytes)") }
            return try numpyScalar(dtype: dt, raw: raw, bad: bad)
        case "numpy.dtype":
            guard let first = args.first, first.asString != nil else { throw bad("expects a type string") }
            return .object(arena.object("numpy.dtype", args: args))
        case "_codecs.encode":
            // Protocol 2's spelling of bytes: encode(str, 'latin1'); each char is one byte.
            guard let s = args.first?.asString else { throw bad("expects a string") }
            // Each call copies its (possibly memoized) string; the copy is charged before it is made.
            try budget.charge(s.utf8.count, "_codecs.encode", offset: at)
            var out: [UInt8] = []
            for u in s.unicodeScalars {
                guard u.value < 256 else { throw bad("a character outside latin-1") }
                out.append(UInt8(u.value))
            }
            return .bytes(out[...])
        case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset":
            let items = args.first?.items ?? []
            try budget.chargeItems(items.count, g.fullName, offset: at)
            return .set(arena.list(items))
        default:
            if Self.opaqueClasses.contains(g.fullName) { return try instantiate(g, args: args, arena: arena) }
            throw bad("cannot be called")
        }
    }

    /// NEWOBJ of an allowed class: an opaque object (dict-like for EasyDict).
    func instantiate(_ g: PickleGlobal, args: [PickleValue], arena: PickleArena) throws -> PickleValue {
        guard Self.opaqueClasses.contains(g.fullName) else {
            if g.fullName == "collections.OrderedDict" { return .dict(arena.dict()) }
            throw malformed("\(g.fullName) is not a class that can be instantiated here", 0)
        }
        let o = arena.object(g.fullName, args: args)
        if g.fullName == "dnnlib.util.EasyDict" { o.state = .dict(arena.dict()) }
        return .object(o)
    }

    /// numpy's scalar(dtype, raw bytes): floats and integers of the usual widths.
    func numpyScalar(dtype: PickleObject, raw: ArraySlice<UInt8>, bad: (String) -> CheckpointError) throws -> PickleValue {
        guard let type = dtype.args.first?.asString else { throw bad("dtype without a type string") }
        // BUILD state (version, byte order, …); '>' marks big-endian data.
        var bigEndian = false
        if let st = dtype.state?.items, st.count > 1, st[1].asString == ">" { bigEndian = true }
        let b = bigEndian ? Array(raw.reversed()) : Array(raw)
        func le(_ n: Int) throws -> UInt64 {
            guard b.count == n else { throw bad("\(type) scalar with \(b.count) bytes") }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(b[i]) << (8 * UInt64(i)) }
            return v
        }
        switch type {
        case "f8": return .float(Double(bitPattern: try le(8)))
        case "f4": return .float(Double(Float(bitPattern: UInt32(try le(4)))))
        case "f2": return .float(Double(Float(Float16(bitPattern: UInt16(try le(2))))))
        case "i8": return .int(Int(Int64(bitPattern: try le(8))))
        case "i4": return .int(Int(Int32(bitPattern: UInt32(try le(4)))))
        case "u4": return .int(Int(try le(4)))
        case "u1", "b1": return .int(Int(try le(1)))
        default: throw bad("numpy scalar of dtype '\(type)' is not supported")
        }
    }
}
