// The values a restricted unpickler builds. Containers are reference types because a pickle fills a
// list or dict after memoizing it; every container is registered in a PickleArena that empties them all
// when reading ends, so neither reference cycles nor deep nesting outlive (or overflow) the read.

/// A value read from a pickle. Only data: no callable is ever run.
public enum PickleValue: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, as its little-endian two's-complement bytes.
    case bigInt(ArraySlice<UInt8>)
    case float(Double)
    case string(String)
    case bytes(ArraySlice<UInt8>)
    case tuple(PickleList)
    case list(PickleList)
    case dict(PickleDict)
    case set(PickleList)
    /// A reference to an allowed global, e.g. torch.FloatStorage, before it is applied.
    case global(PickleGlobal)
    /// An instance of an allowed class kept as data (module objects, numpy dtypes).
    case object(PickleObject)
    case storage(TorchStorage)
    case tensor(TorchTensorRef)

    public var asInt: Int? { if case let .int(v) = self { return v }; if case let .bool(b) = self { return b ? 1 : 0 }; return nil }
    public var asDouble: Double? {
        switch self {
        case let .float(v): return v
        case let .int(v): return Double(v)
        default: return nil
        }
    }
    public var asString: String? { if case let .string(s) = self { return s }; return nil }
    public var asBool: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var isNone: Bool { if case .none = self { return true }; return false }

    /// Items of a tuple or list.
    public var items: [PickleValue]? {
        switch self {
        case let .tuple(l), let .list(l), let .set(l): return l.items
        default: return nil
        }
    }

    /// Objects whose state is another object are followed this far; real checkpoints use one hop.
    static let maxStateHops = 8

    /// A dict, or an object's dict-like state (module `__dict__`, EasyDict). Followed in a loop with a hop
    /// limit: a file can make an object's state itself, which a recursive lookup would follow forever.
    public var dict: PickleDict? {
        var cur = self
        for _ in 0...Self.maxStateHops {
            switch cur {
            case let .dict(d): return d
            case let .object(o):
                guard let s = o.state else { return nil }
                cur = s
            default: return nil
            }
        }
        return nil
    }

    /// Short description for error messages.
    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .set: return "set"
        case let .global(g): return g.name
        case let .object(o): return o.className
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// A tuple, list or set's items.
public final class PickleList {
    public var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

/// A dict in insertion order; str and int keys are indexed so repeated SETITEMs stay linear.
public final class PickleDict {
    public private(set) var keys: [PickleValue] = []
    public private(set) var values: [PickleValue] = []
    private var index: [String: Int] = [:]
    init() {}

    private static func indexKey(_ k: PickleValue) -> String? {
        switch k {
        case let .string(s): return "s" + s
        case let .int(i): return "i\(i)"
        default: return nil
        }
    }

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let ik = Self.indexKey(key) {
            if let i = index[ik] { values[i] = value; return }
            index[ik] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    public subscript(_ key: String) -> PickleValue? {
        guard let i = index["s" + key] else { return nil }
        return values[i]
    }

    /// (key, value) pairs whose key is a str, in insertion order.
    public var stringEntries: [(String, PickleValue)] {
        zip(keys, values).compactMap { k, v in k.asString.map { ($0, v) } }
    }

    public var count: Int { keys.count }

    func removeAll() { keys.removeAll(); values.removeAll(); index.removeAll() }
}

/// A global the allow-list admits, named "module.name".
public struct PickleGlobal: Sendable, Equatable {
    public let module: String
    public let name: String
    public var fullName: String { module + "." + name }
}

/// An instance of an allowed class, kept as data: its class, constructor arguments and BUILD state.
public final class PickleObject {
    public let className: String
    public var args: [PickleValue]
    public var state: PickleValue?
    init(className: String, args: [PickleValue], state: PickleValue? = nil) {
        self.className = className
        self.args = args
        self.state = state
    }
}

/// Owns every container made during one read and empties them all afterwards.
final class PickleArena {
    private var lists: [PickleList] = []
    private var dicts: [PickleDict] = []
    private var objects: [PickleObject] = []

    func list(_ items: [PickleValue]) -> PickleList { let l = PickleList(items); lists.append(l); return l }
    func dict() -> PickleDict { let d = PickleDict(); dicts.append(d); return d }
    func object(_ className: String, args: [PickleValue]) -> PickleObject {
        let o = PickleObject(className: className, args: args); objects.append(o); return o
    }

    /// Empties every container, so freeing them recurses at most one level and cycles are broken.
    func tearDown() {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.removeAll() }
        for o in objects { o.args.removeAll(); o.state = nil }
        lists.removeAll(); dicts.removeAll(); objects.removeAll()
    }
}
