// torch.save's legacy single-file format (torch/serialization.py _legacy_save / _legacy_load): five
// pickles — magic number, protocol version 1001, sys_info, the object, the list of storage keys —
// then each listed storage as an int64 little-endian element count followed by its raw bytes.
// EG3D network pickles embed one such file per storage (torch.storage._load_from_bytes).

public enum LegacyTorchFile {
    /// 0x1950a86a20f9469cfc6c as the little-endian bytes pickle's LONG1 stores.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let protocolVersion = 1001

    public static func looksLikeLegacy(_ bytes: ArraySlice<UInt8>) -> Bool {
        // PROTO 2, LONG1 10, magic
        bytes.count >= 14 && bytes[bytes.startIndex] == 0x80 && bytes[bytes.startIndex + 2] == 0x8A
            && bytes[bytes.startIndex + 3] == 10 && Array(bytes[(bytes.startIndex + 4)..<(bytes.startIndex + 14)]) == magic
    }

    /// Reads the file; `body` converts the object (its tensors have their storage bytes by then).
    public static func read<T>(_ bytes: ArraySlice<UInt8>, file: String, nesting: Int = 0,
                               _ body: (PickleValue) throws -> T) throws -> T {
        try read(bytes, file: file, nesting: nesting, budget: nil, body)
    }

    /// `budget` is the enclosing file's when this is a storage blob; nil starts one sized to `bytes`.
    static func read<T>(_ bytes: ArraySlice<UInt8>, file: String, nesting: Int, budget: ReadBudget?,
                        _ body: (PickleValue) throws -> T) throws -> T {
        func bad(_ r: String) -> CheckpointError { .malformedArchive(file: file, reason: "legacy torch.save format: \(r)") }
        let budget = budget ?? ReadBudget(inputSize: bytes.count, file: file)
        var rest = bytes
        let (isMagic, e1) = try Unpickler.read(rest, file: file, nesting: nesting, budget: budget) { v -> Bool in
            if case let .bigInt(b) = v { return Array(b) == magic }
            return false
        }
        guard isMagic else { throw CheckpointError.unknownFormat(file: file, reason: "no torch.save magic number") }
        rest = bytes[e1...]
        let (version, e2) = try Unpickler.read(rest, file: file, nesting: nesting, budget: budget) { $0.asInt }
        guard version == protocolVersion else { throw bad("protocol version \(version.map(String.init) ?? "?"), expected \(protocolVersion)") }
        rest = bytes[e2...]
        let (littleEndian, e3) = try Unpickler.read(rest, file: file, nesting: nesting, budget: budget) { v -> Bool in
            v.dict?["little_endian"]?.asBool ?? false
        }
        guard littleEndian else { throw bad("sys_info does not say little_endian: big-endian files are not supported") }
        rest = bytes[e3...]
        var storages: [String: TorchStorage] = [:]
        var objectEnd = rest.startIndex
        // The object pickle's containers live until the storages are filled and `body` has run.
        let u = Unpickler(bytes: rest, file: file, persistentLoad: { pid in
            try persistentStorage(pid, file: file, into: &storages)
        }, nesting: nesting, budget: budget)
        defer { u.stack.removeAll(); u.marks.removeAll(); u.memo.removeAll(); u.arena.tearDown() }
        let object = try u.load()
        objectEnd = u.pos
        rest = bytes[objectEnd...]
        let (keys, e5) = try Unpickler.read(rest, file: file, nesting: nesting, budget: budget) { v -> [String]? in
            guard let items = v.items else { return nil }
            let k = items.compactMap(\.asString)
            return k.count == items.count ? k : nil
        }
        guard let keys else { throw bad("the storage key list is not a list of strings") }
        var p = e5
        for key in keys {
            guard let s = storages[key] else { throw bad("storage key '\(key)' is listed but no tensor uses it") }
            guard bytes.endIndex - p >= 8 else { throw bad("storage '\(key)' is cut off (no length)") }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(bytes[p + i]) << (8 * UInt64(i)) }
            p += 8
            let (nbytes, o) = n.multipliedReportingOverflow(by: UInt64(s.dtype.size))
            guard !o, nbytes <= UInt64(bytes.endIndex - p) else { throw bad("storage '\(key)' (\(n) elements) runs past the end of the file") }
            guard Int(n) >= s.count else { throw bad("storage '\(key)' holds \(n) elements, its tensors declare \(s.count)") }
            s.bytes = bytes[p..<(p + Int(nbytes))]
            p += Int(nbytes)
        }
        return try body(object)
    }

    /// ('storage', storage_type, key, location, numel, view_metadata) → the storage, registered by key.
    static func persistentStorage(_ pid: PickleValue, file: String, into storages: inout [String: TorchStorage]) throws -> PickleValue {
        func bad(_ r: String) -> CheckpointError { .malformedArchive(file: file, reason: "persistent id: \(r)") }
        guard let t = pid.items, t.count >= 5, t[0].asString == "storage" else { throw bad("expected ('storage', type, key, location, numel, …)") }
        guard case let .global(g) = t[1], g.module == "torch", let dtype = TorchDType(rawValue: g.name) else {
            throw bad("storage type is a \(t[1].kindName), not a torch storage class")
        }
        guard let key = t[2].asString, let location = t[3].asString, let numel = t[4].asInt, numel >= 0 else {
            throw bad("key, location or element count has the wrong type")
        }
        guard !numel.multipliedReportingOverflow(by: dtype.size).overflow else { throw bad("element count \(numel) overflows") }
        if t.count > 5, !t[5].isNone { throw bad("storage views (torch < 1.0 files) are not supported") }
        if let s = storages[key] {
            guard s.dtype == dtype else { throw bad("storage '\(key)' is used with two dtypes") }
            return .storage(s)
        }
        let s = TorchStorage(key: key, dtype: dtype, location: location, count: numel)
        storages[key] = s
        return .storage(s)
    }

    /// A blob of torch.storage._load_from_bytes: a legacy file whose object is one storage.
    static func storage(fromBlob b: ArraySlice<UInt8>, file: String, budget: ReadBudget) throws -> TorchStorage {
        try read(b, file: file, nesting: 1, budget: budget) { v -> TorchStorage in
            guard case let .storage(s) = v else {
                throw CheckpointError.malformedArchive(file: file, reason: "a storage blob holds a \(v.kindName), not a storage")
            }
            return s
        }
    }
}
