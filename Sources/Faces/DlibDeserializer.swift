import Foundation

/// Reads dlib's binary serialisation (dlib/serialize.h), the format of `shape_predictor_*.dat`:
///
/// - integers: one control byte — low nibble = number of magnitude bytes that follow (little endian),
///   bit 7 = negative — then the bytes;
/// - floats: either the current form, a signed 64-bit mantissa and a 16-bit exponent each written as an
///   integer above (value = mantissa · 2^exponent), or the pre-2013 ASCII form; the two are told apart
///   by bits 0x70 of the first byte, which the integer control byte never sets;
/// - `std::vector`: its size as an integer, then the elements;
/// - `matrix`: rows and columns (written negated by current dlib), then the elements row by row.
struct DlibDeserializer {
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let message: String
        var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private(set) var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw Failure(offset: offset, message: "unexpected end of file") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer() throws -> Int64 {
        let control = try byte()
        let size = Int(control & 0x0F)
        guard size <= 8, control & 0x70 == 0 else { throw Failure(offset: offset - 1, message: "bad integer control byte \(control)") }
        var magnitude: UInt64 = 0
        for k in 0..<size { magnitude |= UInt64(try byte()) << (8 * UInt64(k)) }
        // Found by Fuzz/FuzzDlibPredictor: 2^63 and more became negative, and −Int64.min traps.
        guard magnitude <= UInt64(Int64.max) else { throw Failure(offset: offset - size - 1, message: "integer out of range") }
        let v = Int64(magnitude)
        return control & 0x80 != 0 ? -v : v
    }

    mutating func unsigned() throws -> Int {
        let v = try integer()
        guard v >= 0, v < Int64(Int32.max) else { throw Failure(offset: offset, message: "size \(v) out of range") }
        return Int(v)
    }

    mutating func float() throws -> Float {
        guard offset < bytes.count else { throw Failure(offset: offset, message: "unexpected end of file") }
        if bytes[offset] & 0x70 != 0 { return Float(try asciiFloat()) }
        let mantissa = try integer()
        let exponent = try integer()
        // dlib's float_details marks non-finite values with reserved exponents.
        switch exponent {
        case 32000: return .infinity
        case 32001: return -.infinity
        case 32002: return .nan
        default: return Float(scalbn(Double(mantissa), Int(exponent)))
        }
    }

    /// The old text form: a number (or inf / -inf / nan) followed by one space.
    private mutating func asciiFloat() throws -> Double {
        var end = offset
        while end < bytes.count, bytes[end] != 0x20 { end += 1 }
        let text = String(decoding: bytes[offset..<end], as: UTF8.self)
        offset = min(end + 1, bytes.count)
        if text == "inf" { return .infinity }
        if text == "-inf" { return -.infinity }
        if text == "nan" { return .nan }
        guard let v = Double(text) else { throw Failure(offset: offset, message: "bad ASCII float \(text)") }
        return v
    }

    /// A column vector `matrix<float,0,1>`.
    mutating func floatColumn() throws -> [Float] {
        var rows = try integer(), cols = try integer()
        // Current dlib writes both sizes negated, older dlib both as they are; mixed signs are damage (found
        // by Fuzz/FuzzDlibPredictor: −3 × 1 turned into 3 × −1, then a loop over −3 rows trapped).
        if rows < 0 && cols < 0 { rows = -rows; cols = -cols }
        guard rows >= 0, cols >= 0 else { throw Failure(offset: offset, message: "bad matrix size \(rows)x\(cols)") }
        guard cols == 1 || rows == 0 else { throw Failure(offset: offset, message: "expected a column vector, got \(rows)x\(cols)") }
        guard rows < 1 << 24 else { throw Failure(offset: offset, message: "matrix too large") }
        // Each value takes at least one byte: a size the rest of the file cannot hold is refused before
        // the column is reserved (a 9-byte file asked for 64 MB).
        guard rows <= bytes.count - offset else {
            throw Failure(offset: offset, message: "a column of \(rows) values where \(bytes.count - offset) bytes are left")
        }
        var out = [Float]()
        out.reserveCapacity(Int(rows))
        for _ in 0..<rows { out.append(try float()) }
        return out
    }
}
