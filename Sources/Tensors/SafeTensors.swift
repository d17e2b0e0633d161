// Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the raw bytes.
// The reader validates every entry before any tensor is read. A file is read tensor by tensor with
// pread rather than memory-mapped: a mapping's pages count in the process's resident memory once read,
// so loading a 0.8 GB encoder held the whole file resident next to the weights built from it (the
// load's peak), while pread leaves the bytes in the kernel's page cache only.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case truncatedHeader(file: String)
    case badHeader(file: String, reason: String)
    case unknownDType(file: String, tensor: String, dtype: String)
    case badEntry(file: String, tensor: String, reason: String)
    case overlap(file: String, first: String, second: String)
    case missingTensor(file: String, tensor: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read safetensors file (\(reason))"
        case let .truncatedHeader(file): return "\(file): file too short for a safetensors header"
        case let .badHeader(file, reason): return "\(file): invalid safetensors header: \(reason)"
        case let .unknownDType(file, tensor, dtype):
            return "\(file): tensor '\(tensor)' has unsupported dtype \(dtype) (F32, F16, BF16, I64 are read)"
        case let .badEntry(file, tensor, reason): return "\(file): tensor '\(tensor)': \(reason)"
        case let .overlap(file, first, second):
            return "\(file): tensors '\(first)' and '\(second)' overlap in the data section"
        case let .missingTensor(file, tensor): return "\(file): no tensor named '\(tensor)'"
        }
    }
}

/// Element types read from safetensors files; all are converted to float32 by `tensor(_:)` (I64 holds
/// exact integers such as timestamps; read those with their byte range).
public enum SafeTensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64"
    public var size: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .i64: return 8
        }
    }
}

/// A validated safetensors file (or bytes in memory).
public final class SafeTensorsFile: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        let begin: Int  // absolute byte offsets in the file
        let end: Int
        /// Where the tensor's bytes lie in the file, for reading parts of it without loading it whole.
        public var byteRange: Range<Int> { begin..<end }
    }

    public let path: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let source: Source

    /// Where the bytes are: in memory, or in an open file read with pread (thread-safe: no shared offset).
    private enum Source {
        case memory(Data)
        case file(descriptor: Int32)
    }

    /// All tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Opens and validates the file; tensors are read from it on demand.
    public convenience init(url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SafeTensorsError.unreadable(file: url.path, reason: String(cString: strerror(errno)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SafeTensorsError.unreadable(file: url.path, reason: reason)
        }
        do {
            let size = Int(st.st_size)
            var prefix = [UInt8](repeating: 0, count: Swift.min(size, 8))
            try Self.read(fd, into: &prefix, at: 0, path: url.path)
            let header = try Self.headerLength(prefix, fileSize: size, path: url.path)
            var headerBytes = [UInt8](repeating: 0, count: header)
            try Self.read(fd, into: &headerBytes, at: 8, path: url.path)
            try self.init(header: Data(headerBytes), fileSize: size, path: url.path, source: .file(descriptor: fd))
        } catch {
            close(fd)
            throw error
        }
    }

    /// Validates `data` as a safetensors file; `path` names it in errors.
    public convenience init(data: Data, path: String) throws {
        let header = try Self.headerLength([UInt8](data.prefix(8)), fileSize: data.count, path: path)
        try self.init(header: data.subdata(in: 8..<(8 + header)), fileSize: data.count, path: path, source: .memory(data))
    }

    deinit {
        if case let .file(fd) = source { close(fd) }
    }

    /// The header's length from the file's first 8 bytes, checked against the file's size.
    private static func headerLength(_ prefix: [UInt8], fileSize: Int, path: String) throws -> Int {
        guard prefix.count >= 8 else { throw SafeTensorsError.truncatedHeader(file: path) }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(prefix[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw SafeTensorsError.badHeader(file: path, reason: "header length \(headerLength) exceeds file size \(fileSize)")
        }
        return Int(headerLength)
    }

    /// Fills `buffer` from the file at byte `offset` (pread, resumed after short reads).
    private static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw SafeTensorsError.unreadable(file: path, reason: n < 0 ? String(cString: strerror(errno)) : "file ended early")
            }
            done += n
        }
    }

    private static func read(_ fd: Int32, into bytes: inout [UInt8], at offset: Int, path: String) throws {
        try bytes.withUnsafeMutableBytes { try read(fd, into: $0, at: offset, path: path) }
    }

    /// Checks the JSON header of a file of `fileSize` bytes whose data section follows it.
    private init(header headerBytes: Data, fileSize: Int, path: String, source: Source) throws {
        self.path = path
        self.source = source
        let dataStart = 8 + headerBytes.count
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw SafeTensorsError.badHeader(file: path, reason: "not JSON")
        }
        guard let dict = json as? [String: Any] else {
            throw SafeTensorsError.badHeader(file: path, reason: "top level is not an object")
        }
        var meta: [String: String] = [:]
        var found: [String: Entry] = [:]
        let dataLength = fileSize - dataStart
        for (name, value) in dict {
            if name == "__metadata__" {
                if let m = value as? [String: Any] { for (k, v) in m { meta[k] = "\(v)" } }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafeTensorsError.badEntry(file: path, tensor: name, reason: "entry is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafeTensorsError.badEntry(file: path, tensor: name, reason: "missing dtype")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw SafeTensorsError.unknownDType(file: path, tensor: name, dtype: dtypeName)
            }
            guard let shapeAny = info["shape"] as? [Any], let offsAny = info["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw SafeTensorsError.badEntry(file: path, tensor: name, reason: "missing shape or data_offsets")
            }
            func counts(_ list: [Any], _ what: String) throws -> [Int] {
                try list.map { value in
                    switch JSONCount(value) {
                    case let .count(n): return n
                    case let .refused(reason):
                        throw SafeTensorsError.badEntry(file: path, tensor: name, reason: "\(what) entry \(reason)")
                    }
                }
            }
            let shape = try counts(shapeAny, "shape")
            let offs = try counts(offsAny, "data_offsets")
            guard offs[0] <= offs[1], offs[1] <= dataLength else {
                throw SafeTensorsError.badEntry(file: path, tensor: name,
                    reason: "data_offsets \(offs) outside the data section (\(dataLength) bytes)")
            }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o, p <= dataLength else {
                    throw SafeTensorsError.badEntry(file: path, tensor: name, reason: "shape \(shape) is too large for the file")
                }
                elements = p
            }
            guard elements * dtype.size == offs[1] - offs[0] else {
                throw SafeTensorsError.badEntry(file: path, tensor: name,
                    reason: "shape \(shape) × \(dtype.rawValue) needs \(elements * dtype.size) bytes, offsets give \(offs[1] - offs[0])")
            }
            found[name] = Entry(name: name, dtype: dtype, shape: shape, begin: dataStart + offs[0], end: dataStart + offs[1])
        }
        let sorted = found.values.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
        for i in sorted.indices.dropFirst() where sorted[i].begin < sorted[i - 1].end {
            throw SafeTensorsError.overlap(file: path, first: sorted[i - 1].name, second: sorted[i].name)
        }
        self.metadata = meta
        self.entries = found
    }

    /// The tensor's shape, or nil if absent.
    public func shape(of name: String) -> [Int]? { entries[name]?.shape }

    /// Reads one tensor as float32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else { throw SafeTensorsError.missingTensor(file: path, tensor: name) }
        let n = e.shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        switch source {
        case let .memory(data):
            data.withUnsafeBytes { raw in Self.convert(raw.baseAddress! + e.begin, dtype: e.dtype, count: n, into: &out) }
        case let .file(fd) where e.dtype == .f32 && UInt32(1).littleEndian == 1:
            // Little-endian float32 goes straight into the tensor.
            try out.withUnsafeMutableBytes { try Self.read(fd, into: $0, at: e.begin, path: path) }
        case let .file(fd):
            var raw = [UInt8](repeating: 0, count: e.end - e.begin)
            try Self.read(fd, into: &raw, at: e.begin, path: path)
            raw.withUnsafeBytes { Self.convert($0.baseAddress!, dtype: e.dtype, count: n, into: &out) }
        }
        return Tensor(shape: e.shape, data: out)
    }

    /// Converts `n` little-endian elements of `dtype` at `base` to float32.
    private static func convert(_ base: UnsafeRawPointer, dtype: SafeTensorsDType, count n: Int, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { dst in
            switch dtype {
            case .f32:
                for i in 0..<n { dst[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
            case .f16:
                for i in 0..<n { dst[i] = HalfFloat.toFloat(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case .bf16:
                for i in 0..<n {
                    let h = base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian
                    dst[i] = Float(bitPattern: UInt32(h) << 16)
                }
            case .i64:
                for i in 0..<n { dst[i] = Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            }
        }
    }

    /// Every tensor, by name.
    public func all() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for name in entries.keys { out[name] = try tensor(name) }
        return out
    }
}

/// A size, offset or count from a JSON header (safetensors, model.json): a JSON integer literal, at
/// least 0, that fits in Int.
/// JSONSerialization hands out an NSNumber for `true`, `2.5` and `1e30` alike, and `intValue` would turn
/// them into 1, 2 and Int.min, so the number's stored type is checked before its value is used.
public enum JSONCount: Equatable, Sendable {
    case count(Int)
    case refused(String)

    public init(_ value: Any) {
        guard let number = value as? NSNumber else {
            self = .refused(value is NSNull ? "null is not a number" : "\"\(value)\" is not a number")
            return
        }
        // Booleans and fractions come back as NSNumber too: "c" is the boolean type, "d" a double.
        switch String(cString: number.objCType) {
        case "c":
            self = .refused("\(number.boolValue) is a boolean, not an integer")
        case "d", "f":
            let d = number.doubleValue
            if d.isFinite && d.rounded() != d {
                self = .refused("\(number) is not a whole number")
            } else if !(abs(d) < 0x1p63) {
                self = .refused("\(number) does not fit in a 64-bit integer")
            } else {
                self = .refused("\(number) is written as a decimal, not an integer")
            }
        default:
            guard let n = value as? Int else {
                self = .refused("\(number) does not fit in a 64-bit integer")
                return
            }
            self = n < 0 ? .refused("\(n) is negative") : .count(n)
        }
    }
}

/// Writes float32 tensors as a safetensors file (keys sorted, header padded to 8 bytes).
public enum SafeTensorsWriter {
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var len = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.data.withUnsafeBufferPointer { p in
                // Float32 is stored little-endian on every platform Swift runs this on.
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                               count: 4 * p.count))
            }
        }
        return out
    }

    public static func write(_ tensors: [String: Tensor], to url: URL, metadata: [String: String] = [:]) throws {
        try encode(tensors, metadata: metadata).write(to: url, options: .atomic)
    }
}

/// IEEE 754 half precision to single precision.
enum HalfFloat {
    static func toFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | (UInt32(exp - 15 + 127) << 23) | (mant << 13))
    }
}
