// A restricted pickle reader (protocols 2–5, the text opcodes real checkpoints use): it interprets the
// opcodes into PickleValues and resolves globals only through PickleGlobals' allow-list, which maps each
// admitted call to data. Nothing is imported or executed. Every length is checked against the bytes
// left, and everything an opcode makes (stack and memo entries, container items, copied bytes, re-read
// blobs) is charged to one ReadBudget for the whole file before it is made: repeating a memoized value
// cannot multiply memory or time past what the file's size allows. The interpreter is a loop and no
// value is walked recursively, so no nesting or cycle in the data reaches the call stack. Every
// malformed input ends in one typed error.

public final class Unpickler {
    /// Resolves a persistent id (torch's ('storage', type, key, location, numel, …) tuples).
    public typealias PersistentLoad = (PickleValue) throws -> PickleValue

    let bytes: ArraySlice<UInt8>
    let file: String
    var pos: Int
    let persistentLoad: PersistentLoad?
    let globals: PickleGlobals
    let arena = PickleArena()
    let budget: ReadBudget

    var stack: [PickleValue] = []
    var marks: [[PickleValue]] = []
    var memo: [Int: PickleValue] = [:]

    /// `nesting` counts torch.storage._load_from_bytes levels: a storage blob may not hold another.
    /// `budget` is the file's, shared with the other pickles in it; nil starts one sized to `bytes`.
    init(bytes: ArraySlice<UInt8>, file: String, persistentLoad: PersistentLoad?, nesting: Int = 0, budget: ReadBudget? = nil) {
        self.bytes = bytes
        self.file = file
        self.pos = bytes.startIndex
        self.persistentLoad = persistentLoad
        let b = budget ?? ReadBudget(inputSize: bytes.count, file: file)
        self.budget = b
        self.globals = PickleGlobals(file: file, nesting: nesting, budget: b)
    }

    /// Reads one pickle from `bytes` and hands the value to `body`; the containers are emptied when
    /// `body` returns, so `body` must convert what it needs. Returns the bytes consumed too.
    public static func read<T>(_ bytes: ArraySlice<UInt8>, file: String, persistentLoad: PersistentLoad? = nil,
                               nesting: Int = 0, _ body: (PickleValue) throws -> T) throws -> (value: T, end: Int) {
        try read(bytes, file: file, persistentLoad: persistentLoad, nesting: nesting, budget: nil, body)
    }

    /// `budget`: the enclosing file's, for the pickles of a legacy file and storage blobs.
    static func read<T>(_ bytes: ArraySlice<UInt8>, file: String, persistentLoad: PersistentLoad? = nil,
                        nesting: Int = 0, budget: ReadBudget?,
                        _ body: (PickleValue) throws -> T) throws -> (value: T, end: Int) {
        let u = Unpickler(bytes: bytes, file: file, persistentLoad: persistentLoad, nesting: nesting, budget: budget)
        defer { u.stack.removeAll(); u.marks.removeAll(); u.memo.removeAll(); u.arena.tearDown() }
        let v = try u.load()
        return (try body(v), u.pos)
    }

    func fail(_ reason: String) -> CheckpointError {
        .malformedPickle(file: file, offset: pos - bytes.startIndex, reason: reason)
    }

    // MARK: reading primitives

    @inline(__always) func need(_ n: Int) throws {
        guard n >= 0, bytes.endIndex - pos >= n else { throw fail("truncated: \(n) more bytes needed, \(bytes.endIndex - pos) left") }
    }
    func u8() throws -> Int { try need(1); defer { pos += 1 }; return Int(bytes[pos]) }
    func uLE(_ n: Int) throws -> UInt64 {
        try need(n)
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        pos += n
        return v
    }
    func take(_ n: Int) throws -> ArraySlice<UInt8> { try need(n); defer { pos += n }; return bytes[pos..<(pos + n)] }
    func length(_ n: Int) throws -> Int {
        let v = try uLE(n)
        guard v <= UInt64(bytes.endIndex - pos) else { throw fail("truncated: length \(v) runs past the end of the data") }
        return Int(v)
    }
    func line() throws -> ArraySlice<UInt8> {
        guard let nl = bytes[pos...].firstIndex(of: 10) else { throw fail("truncated: no end of line") }
        defer { pos = nl + 1 }
        return bytes[pos..<nl]
    }
    func utf8(_ b: ArraySlice<UInt8>) throws -> String {
        guard let s = String(validating: b, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
        return s
    }

    /// Charges `n` items made by `what` against the file's budget.
    func charge(_ n: Int, _ what: @autoclosure () -> String) throws {
        try budget.chargeItems(n, what(), offset: pos - bytes.startIndex)
    }
    func push(_ v: PickleValue) throws {
        try charge(1, "a stack entry")
        stack.append(v)
    }

    func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        return v
    }
    func top() throws -> PickleValue {
        guard let v = stack.last else { throw fail("stack underflow") }
        return v
    }
    func popMark() throws -> [PickleValue] {
        guard let outer = marks.popLast() else { throw fail("no MARK on the stack") }
        let items = stack
        stack = outer
        return items
    }
    func littleEndianInt(_ b: ArraySlice<UInt8>) throws -> PickleValue {
        if b.isEmpty { return .int(0) }
        if b.count > 8 { return .bigInt(b) }
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        if b.count < 8, b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }
        return .int(Int(Int64(bitPattern: v)))
    }

    // MARK: the interpreter

    func load() throws -> PickleValue {
        while true {
            let op = try u8()
            switch op {
            case 0x80: // PROTO
                let p = try u8()
                guard p <= 5 else { throw fail("pickle protocol \(p) is newer than 5") }
            case 0x95: _ = try uLE(8) // FRAME: framing only, the data follows inline
            case 0x2E: // STOP
                let v = try pop()
                return v
            case 0x28: try charge(1, "MARK"); marks.append(stack); stack = [] // MARK
            case 0x30: _ = try pop() // POP
            case 0x31: _ = try popMark() // POP_MARK
            case 0x32: try push(try top()) // DUP
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4A: try push(.int(Int(Int32(bitPattern: UInt32(try uLE(4)))))) // BININT
            case 0x4B: try push(.int(try u8())) // BININT1
            case 0x4D: try push(.int(Int(try uLE(2)))) // BININT2
            case 0x8A: try push(try littleEndianInt(try take(try length(1)))) // LONG1
            case 0x8B: // LONG4
                let n = try uLE(4)
                guard n <= UInt64(bytes.endIndex - pos) else { throw fail("LONG4 length runs past the end") }
                try push(try littleEndianInt(try take(Int(n))))
            case 0x49: // INT (text): also the protocol-0 spelling of True/False
                let s = try utf8(try line())
                if s == "01" { try push(.bool(true)) } else if s == "00" { try push(.bool(false)) }
                else if let v = Int(s) { try push(.int(v)) } else { throw fail("bad INT literal") }
            case 0x4C: // LONG (text)
                var s = try utf8(try line())
                if s.hasSuffix("L") { s.removeLast() }
                guard let v = Int(s) else { throw fail("LONG literal '\(s.prefix(40))' is not a 64-bit integer") }
                try push(.int(v))
            case 0x47: try push(.float(Double(bitPattern: (try uLE(8)).byteSwapped))) // BINFLOAT (big-endian)
            case 0x46: // FLOAT (text)
                guard let v = Double(try utf8(try line())) else { throw fail("bad FLOAT literal") }
                try push(.float(v))
            case 0x8C: try push(.string(try utf8(try take(try length(1))))) // SHORT_BINUNICODE
            case 0x58: try push(.string(try utf8(try take(try length(4))))) // BINUNICODE
            case 0x8D: try push(.string(try utf8(try take(try length(8))))) // BINUNICODE8
            case 0x55: try push(.bytes(try take(try length(1)))) // SHORT_BINSTRING (py2 str)
            case 0x54: try push(.bytes(try take(try length(4)))) // BINSTRING
            case 0x43: try push(.bytes(try take(try length(1)))) // SHORT_BINBYTES
            case 0x42: try push(.bytes(try take(try length(4)))) // BINBYTES
            case 0x8E, 0x96: try push(.bytes(try take(try length(8)))) // BINBYTES8, BYTEARRAY8
            case 0x29: try push(.tuple(arena.list([]))) // EMPTY_TUPLE
            case 0x74: try push(.tuple(arena.list(try popMarkCharged("TUPLE")))) // TUPLE
            case 0x85, 0x86, 0x87: // TUPLE1/2/3
                let n = Int(op) - 0x84
                guard stack.count >= n else { throw fail("stack underflow") }
                try charge(n, "a tuple")
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                try push(.tuple(arena.list(items)))
            case 0x5D: try push(.list(arena.list([]))) // EMPTY_LIST
            case 0x6C: try push(.list(arena.list(try popMarkCharged("LIST")))) // LIST
            case 0x61: // APPEND
                let v = try pop()
                guard case let .list(l) = try top() else { throw fail("APPEND to a \(try top().kindName)") }
                try charge(1, "APPEND")
                l.items.append(v)
            case 0x65: // APPENDS
                let items = try popMarkCharged("APPENDS")
                guard case let .list(l) = try top() else { throw fail("APPENDS to a \(try top().kindName)") }
                l.items += items
            case 0x7D: try push(.dict(arena.dict())) // EMPTY_DICT
            case 0x64: // DICT
                let items = try popMarkCharged("DICT")
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let d = arena.dict()
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                try push(.dict(d))
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                try charge(2, "SETITEM")
                try setItems(try top(), [k, v])
            case 0x75: // SETITEMS
                let items = try popMarkCharged("SETITEMS")
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                try setItems(try top(), items)
            case 0x8F: try push(.set(arena.list([]))) // EMPTY_SET
            case 0x90: // ADDITEMS
                let items = try popMarkCharged("ADDITEMS")
                guard case let .set(s) = try top() else { throw fail("ADDITEMS to a \(try top().kindName)") }
                s.items += items
            case 0x91: try push(.set(arena.list(try popMarkCharged("FROZENSET")))) // FROZENSET
            case 0x63: // GLOBAL "module\nname\n"
                let module = try utf8(try line()), name = try utf8(try line())
                try push(.global(try globals.resolve(module: module, name: name)))
            case 0x93: // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let m = module.asString, let n = name.asString else { throw fail("STACK_GLOBAL needs two strings") }
                try push(.global(try globals.resolve(module: m, name: n)))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                guard case let .global(g) = callable else { throw fail("REDUCE on a \(callable.kindName), not a global") }
                guard let a = args.items, case .tuple = args else { throw fail("REDUCE arguments are a \(args.kindName), not a tuple") }
                try push(try globals.call(g, args: a, arena: arena, at: pos - bytes.startIndex))
            case 0x81: // NEWOBJ
                let args = try pop(), cls = try pop()
                guard case let .global(g) = cls else { throw fail("NEWOBJ on a \(cls.kindName), not a class") }
                guard let a = args.items else { throw fail("NEWOBJ arguments are not a tuple") }
                try push(try globals.instantiate(g, args: a, arena: arena))
            case 0x92: // NEWOBJ_EX
                let _ = try pop(), args = try pop(), cls = try pop()
                guard case let .global(g) = cls else { throw fail("NEWOBJ_EX on a \(cls.kindName), not a class") }
                guard let a = args.items else { throw fail("NEWOBJ_EX arguments are not a tuple") }
                try push(try globals.instantiate(g, args: a, arena: arena))
            case 0x62: // BUILD
                let state = try pop()
                try build(try top(), state: state)
            case 0x70: // PUT (text index)
                guard let i = Int(try utf8(try line())) else { throw fail("bad PUT index") }
                try put(i)
            case 0x71: try put(try u8()) // BINPUT
            case 0x72: try put(Int(try uLE(4))) // LONG_BINPUT
            case 0x94: try put(memo.count) // MEMOIZE
            case 0x67: // GET
                guard let i = Int(try utf8(try line())), let v = memo[i] else { throw fail("GET of an unknown memo entry") }
                try push(v)
            case 0x68: // BINGET
                let i = try u8()
                guard let v = memo[i] else { throw fail("BINGET of unknown memo entry \(i)") }
                try push(v)
            case 0x6A: // LONG_BINGET
                let i = Int(try uLE(4))
                guard let v = memo[i] else { throw fail("LONG_BINGET of unknown memo entry \(i)") }
                try push(v)
            case 0x51: // BINPERSID
                let pid = try pop()
                guard let persistentLoad else { throw fail("a persistent id where none is expected") }
                try push(try persistentLoad(pid))
            case 0x50: // PERSID (text)
                let pid = PickleValue.string(try utf8(try line()))
                guard let persistentLoad else { throw fail("a persistent id where none is expected") }
                try push(try persistentLoad(pid))
            default:
                throw fail(String(format: "opcode 0x%02x is not supported (unknown, or code-running / out-of-band)", op))
            }
        }
    }

    func popMarkCharged(_ what: String) throws -> [PickleValue] {
        let items = try popMark()
        try charge(items.count, what)
        return items
    }

    func put(_ i: Int) throws {
        try charge(1, "a memo entry")
        memo[i] = try top()
    }

    func setItems(_ target: PickleValue, _ items: [PickleValue]) throws {
        let d: PickleDict
        switch target {
        case let .dict(x): d = x
        case let .object(o) where o.className == "dnnlib.util.EasyDict":
            if case let .dict(x)? = o.state { d = x } else { d = arena.dict(); o.state = .dict(d) }
        default: throw fail("SETITEM(S) on a \(target.kindName)")
        }
        for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
    }

    /// BUILD: objects keep their state as data; a dict's state (OrderedDict's `_metadata`) is recorded
    /// nowhere, as torch's own loader only uses it for load_state_dict hooks. An object may not become
    /// (or reach through other objects' states) its own state: no real module is, and such a cycle has
    /// no meaning to convert.
    func build(_ target: PickleValue, state: PickleValue) throws {
        switch target {
        case let .object(o):
            var cur: PickleValue? = state
            var hops = 0
            while case let .object(x)? = cur {
                guard x !== o else { throw fail("BUILD makes a \(o.className) its own state") }
                hops += 1
                guard hops <= PickleValue.maxStateHops else { throw fail("BUILD state nested in more than \(PickleValue.maxStateHops) objects") }
                cur = x.state
            }
            if o.className == "dnnlib.util.EasyDict", case let .dict(existing)? = o.state, let add = state.dict {
                guard add !== existing else { throw fail("BUILD makes a dnnlib.util.EasyDict its own state") }
                try charge(2 * add.count, "BUILD of an EasyDict")
                for (k, v) in zip(add.keys, add.values) { existing.set(k, v) }
            } else {
                o.state = state
            }
        case .dict, .tensor, .storage, .set, .list: break
        default: throw fail("BUILD on a \(target.kindName)")
        }
    }
}
