// A checkpoint's tensors under their state-dict names: from an nn.Module tree as pickled (each
// module's `__dict__` with `_parameters`, `_buffers`, `_modules`; persistent buffers only, as
// Module.state_dict does) or from a state-dict mapping.
import Tensors

public struct StateDict {
    public let file: String
    /// Names in the order the checkpoint holds them.
    public private(set) var names: [String] = []
    public private(set) var refs: [String: TorchTensorRef] = [:]

    public init(file: String) { self.file = file }

    mutating func add(_ name: String, _ ref: TorchTensorRef) throws {
        guard refs[name] == nil else { throw CheckpointError.invalidModel(file: file, reason: "tensor '\(name)' appears twice") }
        names.append(name)
        refs[name] = ref
    }

    public var shapes: [String: [Int]] { refs.mapValues(\.shape) }

    /// The module tree under `module` (an object whose state is a module `__dict__`).
    public static func fromModule(_ module: PickleValue, file: String) throws -> StateDict {
        var sd = StateDict(file: file)
        try sd.walk(module, prefix: "", depth: 0)
        return sd
    }

    static let maxDepth = 64
    /// Modules visited; a pickle can reference one module from many parents, which would otherwise make
    /// the walk exponential in the depth.
    static let maxModules = 100_000
    /// Entries of `_parameters`/`_buffers` looked at, counted over every visit: a shared submodule is
    /// walked once per parent, so a small file could otherwise ask for billions (EG3D's G_ema has ~1000).
    static let maxEntries = 1 << 20
    private var visited = 0
    private var entriesSeen = 0

    mutating func walk(_ module: PickleValue, prefix: String, depth: Int) throws {
        visited += 1
        guard visited <= Self.maxModules else { throw CheckpointError.invalidModel(file: file, reason: "more than \(Self.maxModules) modules (shared submodules?)") }
        guard depth < Self.maxDepth else { throw CheckpointError.invalidModel(file: file, reason: "modules nested deeper than \(Self.maxDepth) levels at '\(prefix)'") }
        guard let state = module.dict else {
            throw CheckpointError.invalidModel(file: file, reason: "module '\(prefix)' is a \(module.kindName), not a module with a state")
        }
        var nonPersistent = Set<String>()
        if let s = state["_non_persistent_buffers_set"]?.items { nonPersistent = Set(s.compactMap(\.asString)) }
        for (field, skip) in [("_parameters", Set<String>()), ("_buffers", nonPersistent)] {
            guard let entries = state[field] else { continue }
            guard let d = entries.dict else { throw CheckpointError.invalidModel(file: file, reason: "module '\(prefix)': \(field) is a \(entries.kindName)") }
            entriesSeen += d.count
            guard entriesSeen <= Self.maxEntries else {
                throw CheckpointError.invalidModel(file: file, reason: "more than \(Self.maxEntries) parameters and buffers (shared submodules?)")
            }
            for (name, v) in d.stringEntries where !skip.contains(name) {
                switch v {
                case .none: continue
                case let .tensor(t): try add(prefix + name, t)
                default: throw CheckpointError.invalidModel(file: file, reason: "'\(prefix + name)' is a \(v.kindName), not a tensor")
                }
            }
        }
        if let mods = state["_modules"] {
            guard let d = mods.dict else { throw CheckpointError.invalidModel(file: file, reason: "module '\(prefix)': _modules is a \(mods.kindName)") }
            for (name, child) in d.stringEntries where !child.isNone {
                try walk(child, prefix: prefix + name + ".", depth: depth + 1)
            }
        }
    }

    /// A state-dict mapping name → tensor; non-tensor entries are an error naming them.
    public static func fromMapping(_ d: PickleDict, file: String, keep: (String) -> Bool = { _ in true }) throws -> StateDict {
        var sd = StateDict(file: file)
        for (name, v) in d.stringEntries where keep(name) {
            guard case let .tensor(t) = v else {
                throw CheckpointError.invalidModel(file: file, reason: "state dict entry '\(name)' is a \(v.kindName), not a tensor")
            }
            try sd.add(name, t)
        }
        return sd
    }

    /// Every tensor as contiguous float32. Tensors may not together hold more than twice as many elements
    /// as the file bytes their storages cover (each element takes at least one byte), so memoized
    /// references, or storages whose records overlap in the file, cannot multiply an allocation. The
    /// bytes are counted where they lie (the storages' slices share the file's indices), not as the
    /// pickle declares them: declared counts are the file's word and could overflow a sum.
    public func materialize() throws -> [String: Tensor] {
        var ranges: [Range<Int>] = []
        var seen = Set<ObjectIdentifier>()
        for n in names {
            let s = refs[n]!.storage
            if seen.insert(ObjectIdentifier(s)).inserted, let b = s.bytes, !b.isEmpty { ranges.append(b.startIndex..<b.endIndex) }
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var covered = 0, reach = Int.min
        for r in ranges {
            let from = max(r.lowerBound, reach)
            if r.upperBound > from { covered += r.upperBound - from }
            reach = max(reach, r.upperBound)
        }
        let budget = 2 * covered + (1 << 20)
        var used = 0
        var out: [String: Tensor] = [:]
        for n in names {
            let t = try refs[n]!.materialize(file: file, name: n)
            used += t.count
            guard used <= budget else {
                throw CheckpointError.invalidModel(file: file, reason: "its tensors reuse storage for more than twice the data the file holds")
            }
            out[n] = t
        }
        return out
    }
}
