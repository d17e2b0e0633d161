// Reader and writer for NumPy's .npy format (version 1.0–3.0): magic "\x93NUMPY", a version, a header
// length, then a Python-literal dict {'descr': '<f4', 'fortran_order': False, 'shape': (…)} and raw data.
// Used for edit directions (InterFaceGAN/GANSpace files are .npy) and anything a user exports from Python.
import Foundation

public enum NumpyError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case notNumpy(file: String)
    case badHeader(file: String, reason: String)
    case unsupportedType(file: String, descr: String)
    case sizeMismatch(file: String, expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .unreadable(f, r): return "\(f): cannot read (\(r))"
        case let .notNumpy(f): return "\(f): not a .npy file (no \\x93NUMPY magic)"
        case let .badHeader(f, r): return "\(f): invalid .npy header: \(r)"
        case let .unsupportedType(f, d): return "\(f): unsupported element type '\(d)' (float32 or float64, little-endian, C order)"
        case let .sizeMismatch(f, e, n): return "\(f): data holds \(n) bytes but the header promises \(e)"
        }
    }
}

public enum NumpyArray {
    /// Reads a little-endian float32 or float64 array in C order as a float32 tensor.
    public static func read(_ url: URL) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NumpyError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    public static func decode(_ data: Data, path: String) throws -> Tensor {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw NumpyError.notNumpy(file: path)
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3, bytes.count >= 12 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        } else {
            throw NumpyError.badHeader(file: path, reason: "unknown version \(major)")
        }
        guard headerStart + headerLength <= data.count else { throw NumpyError.badHeader(file: path, reason: "header runs past the end") }
        let header = String(decoding: data[data.startIndex + headerStart ..< data.startIndex + headerStart + headerLength], as: UTF8.self)
        guard let descr = field("descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) else {
            throw NumpyError.badHeader(file: path, reason: "no 'descr'")
        }
        if let fo = field("fortran_order", in: header), fo.trimmingCharacters(in: .whitespaces) == "True" {
            throw NumpyError.unsupportedType(file: path, descr: descr + " (Fortran order)")
        }
        guard let shapeText = shapeLiteral(in: header) else { throw NumpyError.badHeader(file: path, reason: "no 'shape'") }
        // Every dimension a non-negative integer ("(3,)" ends in an empty item), and the element count
        // and byte size free of overflow, before anything is allocated.
        var items = shapeText.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if items.count > 1, items.last == "" { items.removeLast() }
        if items == [""] { items = [] }
        var shape: [Int] = []
        var count = 1
        for item in items {
            guard let d = Int(item), d >= 0 else {
                throw NumpyError.badHeader(file: path, reason: "shape (\(shapeText)) is not a tuple of sizes")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= data.count else {
                throw NumpyError.badHeader(file: path, reason: "shape (\(shapeText)) is larger than the file")
            }
            shape.append(d)
            count = product
        }
        let elementSize: Int
        switch descr {
        case "<f4", "=f4", "f4": elementSize = 4
        case "<f8", "=f8", "f8": elementSize = 8
        default: throw NumpyError.unsupportedType(file: path, descr: descr)
        }
        let body = headerStart + headerLength
        guard data.count - body == count * elementSize else {
            throw NumpyError.sizeMismatch(file: path, expected: count * elementSize, found: data.count - body)
        }
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + body
            for i in 0..<count {
                if elementSize == 4 {
                    values[i] = Float(bitPattern: UInt32(littleEndian: (base + 4 * i).loadUnaligned(as: UInt32.self)))
                } else {
                    values[i] = Float(Double(bitPattern: UInt64(littleEndian: (base + 8 * i).loadUnaligned(as: UInt64.self))))
                }
            }
        }
        return Tensor(shape: shape, data: values)
    }

    /// Writes a float32 array (version 1.0 header, padded so data starts on a 64-byte boundary), atomically.
    public static func write(_ t: Tensor, to url: URL) throws {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        t.data.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: 4 * $0.count)) }
        try out.write(to: url, options: .atomic)
    }

    private static func field(_ key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else { return nil }
        let rest = header[r.upperBound...]
        let end = rest.firstIndex(of: ",") ?? rest.endIndex
        return String(rest[..<end])
    }

    private static func shapeLiteral(in header: String) -> String? {
        guard let r = header.range(of: "'shape':") ?? header.range(of: "\"shape\":"),
              let open = header[r.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else { return nil }
        return String(header[header.index(after: open)..<close])
    }
}
