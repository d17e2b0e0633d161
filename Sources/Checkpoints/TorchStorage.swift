// torch storages and tensor views as a checkpoint describes them, and their conversion to float32.
// The bytes are slices of the file read once; a tensor is only materialised after its view was
// checked against its storage's length.
import Tensors

/// Element types of torch storages (torch.<Name>Storage).
public enum TorchDType: String, Sendable, CaseIterable {
    case float32 = "FloatStorage", float16 = "HalfStorage", bfloat16 = "BFloat16Storage", float64 = "DoubleStorage"
    case int64 = "LongStorage", int32 = "IntStorage", int16 = "ShortStorage", int8 = "CharStorage"
    case uint8 = "ByteStorage", bool = "BoolStorage"

    public var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Little-endian element `i` of `bytes` as Float (integers converted, as torch's .float() does).
    @inline(__always)
    func value(_ p: UnsafeRawBufferPointer, _ i: Int) -> Float {
        switch self {
        case .float32: return Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .float16: return Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
        case .bfloat16: return Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
        case .float64: return Float(Double(bitPattern: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
        case .int64: return Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
        case .int32: return Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
        case .int16: return Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
        case .int8: return Float(Int8(bitPattern: p[i]))
        case .uint8: return Float(p[i])
        case .bool: return p[i] != 0 ? 1 : 0
        }
    }
}

/// One storage: its key in the checkpoint, element type, declared length and (once the reader found
/// it) its bytes.
public final class TorchStorage: @unchecked Sendable {
    public let key: String
    public let dtype: TorchDType
    public let location: String
    /// Element count the pickle declares.
    public let count: Int
    public internal(set) var bytes: ArraySlice<UInt8>?

    init(key: String, dtype: TorchDType, location: String, count: Int, bytes: ArraySlice<UInt8>? = nil) {
        self.key = key
        self.dtype = dtype
        self.location = location
        self.count = count
        self.bytes = bytes
    }
}

/// A strided view of a storage (torch._utils._rebuild_tensor_v2's arguments).
public struct TorchTensorRef: @unchecked Sendable {
    public let storage: TorchStorage
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]

    /// Checks the view against the storage and copies it out as contiguous float32.
    public func materialize(file: String, name: String) throws -> Tensor {
        func bad(_ r: String) -> CheckpointError { .badTensor(file: file, name: name, reason: r) }
        guard let bytes = storage.bytes else { throw bad("its storage '\(storage.key)' has no data in the file") }
        guard shape.count == strides.count else { throw bad("shape \(shape) and strides \(strides) differ in rank") }
        guard bytes.count >= storage.count * storage.dtype.size else {
            throw bad("storage '\(storage.key)' declares \(storage.count) elements but holds \(bytes.count) bytes")
        }
        var n = 1, last = offset
        guard offset >= 0 else { throw bad("negative storage offset \(offset)") }
        for (s, st) in zip(shape, strides) {
            guard s >= 0, st >= 0 else { throw bad("negative size or stride (shape \(shape), strides \(strides))") }
            let (m, o1) = n.multipliedReportingOverflow(by: s)
            guard !o1 else { throw bad("shape \(shape) overflows") }
            n = m
            if s > 0 {
                let (span, o2) = (s - 1).multipliedReportingOverflow(by: st)
                let (l, o3) = last.addingReportingOverflow(span)
                guard !o2, !o3 else { throw bad("strides \(strides) overflow") }
                last = l
            }
        }
        // A view never holds more elements than its storage in what torch.save writes; refusing broadcast
        // (zero-stride) views keeps every allocation within the file's size.
        if n > max(storage.count, 1) {
            throw bad("shape \(shape) has \(n) elements, more than its \(storage.count)-element storage (broadcast views are not supported)")
        }
        // An empty view reads nothing, whatever its other sizes and strides say.
        if n == 0 { return Tensor(shape: shape, data: []) }
        if last >= storage.count {
            throw bad("view (offset \(offset), shape \(shape), strides \(strides)) reaches element \(last) of a \(storage.count)-element storage")
        }
        // A size-1 dimension is never stepped along, so its stride (which the checks above ignore) is
        // treated as 0: a huge one could otherwise overflow the walk below.
        let strides = zip(shape, self.strides).map { s, st in s == 1 ? 0 : st }
        var out = [Float](repeating: 0, count: n)
        let dtype = storage.dtype
        let rank = shape.count
        bytes.withUnsafeBytes { p in
            out.withUnsafeMutableBufferPointer { o in
                if rank == 0 { o[0] = dtype.value(p, offset); return }
                // Every dimension is non-empty here and the product of their sizes is n, so `expect` stays ≤ n.
                var contiguous = true, expect = 1
                for d in stride(from: rank - 1, through: 0, by: -1) where shape[d] != 1 {
                    if strides[d] != expect { contiguous = false }
                    expect *= shape[d]
                }
                if contiguous {
                    for i in 0..<n { o[i] = dtype.value(p, offset + i) }
                    return
                }
                var idx = [Int](repeating: 0, count: rank)
                var src = offset
                for i in 0..<n {
                    o[i] = dtype.value(p, src)
                    var d = rank - 1
                    while d >= 0 {
                        idx[d] += 1
                        src += strides[d]
                        if idx[d] < shape[d] { break }
                        src -= strides[d] * shape[d]
                        idx[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }
}
