// The zip container torch.save writes (PyTorch's miniz-based PyTorchStreamWriter): records STORED
// uncompressed, found through the central directory (with the zip64 extensions for large files).
// Only what torch writes is accepted; each record is a slice of the file's bytes, bounds-checked.

public struct ZipArchive {
    public let file: String
    let bytes: ArraySlice<UInt8>
    /// Record name → byte range of its data in `bytes`.
    public private(set) var records: [String: Range<Int>] = [:]
    public private(set) var names: [String] = []

    static let localSignature: UInt32 = 0x0403_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50

    public static func looksLikeZip(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count >= 4 && le(bytes, bytes.startIndex, 4) == UInt64(localSignature)
    }

    static func le(_ b: ArraySlice<UInt8>, _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
        return v
    }

    public init(bytes: ArraySlice<UInt8>, file: String) throws {
        self.file = file
        self.bytes = bytes
        func bad(_ r: String) -> CheckpointError { .malformedArchive(file: file, reason: r) }
        let start = bytes.startIndex, end = bytes.endIndex
        func check(_ at: Int, _ n: Int) throws {
            guard at >= start, n >= 0, at <= end - n else { throw bad("a zip structure runs past the end of the file") }
        }
        func field(_ at: Int, _ n: Int) throws -> UInt64 {
            try check(at, n)
            return Self.le(bytes, at, n)
        }
        // End of central directory: the last signature within 22 + 65535 bytes of the end.
        var eocd = -1
        guard bytes.count >= 22 else { throw bad("too short for a zip file (\(bytes.count) bytes)") }
        var i = end - 22
        while i >= max(start, end - 22 - 65535) {
            if Self.le(bytes, i, 4) == UInt64(Self.endSignature) { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (truncated, or not a zip file)") }
        var count = Int(try field(eocd + 10, 2))
        var cdSize = try field(eocd + 12, 4)
        var cdOffset = try field(eocd + 16, 4)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            let loc = eocd - 20
            guard loc >= start, try field(loc, 4) == UInt64(Self.zip64LocatorSignature) else { throw bad("zip64 sizes without a zip64 locator") }
            let e64 = try field(loc + 8, 8)
            guard e64 < UInt64(bytes.count) else { throw bad("zip64 end record offset out of range") }
            let at = start + Int(e64)
            guard try field(at, 4) == UInt64(Self.zip64EndSignature) else { throw bad("bad zip64 end record") }
            let n64 = try field(at + 32, 8)
            guard n64 <= UInt64(bytes.count / 46) else { throw bad("zip64 record count \(n64) exceeds what the file can hold") }
            count = Int(n64)
            cdSize = try field(at + 40, 8)
            cdOffset = try field(at + 48, 8)
        }
        guard cdOffset <= UInt64(bytes.count), cdSize <= UInt64(bytes.count) - cdOffset else {
            throw bad("central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the file")
        }
        var p = start + Int(cdOffset)
        for _ in 0..<count {
            guard try field(p, 4) == UInt64(Self.centralSignature) else { throw bad("bad central directory entry at byte \(p - start)") }
            let method = try field(p + 10, 2)
            var compressed = try field(p + 20, 4)
            var size = try field(p + 24, 4)
            let nameLen = Int(try field(p + 28, 2)), extraLen = Int(try field(p + 30, 2)), commentLen = Int(try field(p + 32, 2))
            var local = try field(p + 42, 4)
            try check(p + 46, nameLen + extraLen + commentLen)
            let nameBytes = bytes[(p + 46)..<(p + 46 + nameLen)]
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw bad("a record name is not UTF-8") }
            // zip64 extended information: the 0xFFFFFFFF fields, in order size, compressed, offset.
            var e = p + 46 + nameLen
            let extraEnd = e + extraLen
            while e + 4 <= extraEnd {
                let id = try field(e, 2), len = Int(try field(e + 2, 2))
                var q = e + 4
                guard q + len <= extraEnd else { throw bad("record '\(name)': extra field runs past its end") }
                if id == 1 {
                    if size == 0xFFFF_FFFF, q + 8 <= e + 4 + len { size = try field(q, 8); q += 8 }
                    if compressed == 0xFFFF_FFFF, q + 8 <= e + 4 + len { compressed = try field(q, 8); q += 8 }
                    if local == 0xFFFF_FFFF, q + 8 <= e + 4 + len { local = try field(q, 8); q += 8 }
                }
                e += 4 + len
            }
            guard method == 0 else { throw bad("record '\(name)' is compressed (method \(method)); torch writes records uncompressed") }
            guard compressed == size else { throw bad("record '\(name)': stored size \(compressed) differs from its size \(size)") }
            guard local <= UInt64(bytes.count) else { throw bad("record '\(name)': local header offset out of range") }
            let lh = start + Int(local)
            guard try field(lh, 4) == UInt64(Self.localSignature) else { throw bad("record '\(name)': no local header at its offset") }
            let dataStart = lh + 30 + Int(try field(lh + 26, 2)) + Int(try field(lh + 28, 2))
            guard dataStart <= end, size <= UInt64(end - dataStart) else { throw bad("record '\(name)' (\(size) bytes) runs past the end of the file") }
            if records[name] == nil { names.append(name) }
            records[name] = dataStart..<(dataStart + Int(size))
            p += 46 + nameLen + extraLen + commentLen
        }
    }

    public func data(_ name: String) -> ArraySlice<UInt8>? {
        records[name].map { bytes[$0] }
    }
}
