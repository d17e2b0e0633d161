import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The face pass's per-frame measurements on disk, so that a clip's memory does not grow with its
/// length: one fixed-size record a frame, read back a frame at a time with `pread`.
///
/// Format (all numbers little-endian):
/// - a 64-byte header: magic "AVZFACE1", version (UInt32), record size (UInt32), landmarks a record
///   (UInt32), 4 reserved bytes, frame count (UInt64), frames with a face (UInt64), zeros to 64;
/// - `count` records of `recordSize` bytes: flags (UInt8: has face, has frame time, face has time,
///   face has box), source (UInt8), 6 zero bytes, the frame's time (Float64), then for a face: index
///   (Int64), its time (Float64), box left/top/right/bottom (Int64), 68 landmarks x, y (Float64), raw quad
///   centre/x/y, raw pose yaw/pitch/roll/residual, quad, pose (Float64). A frame without a face leaves
///   everything after its time zero.
///
/// Doubles are stored as their bit patterns, so a face read back is `==` to the one written.
public final class MeasuredFaceFile: @unchecked Sendable {  // immutable after init; pread needs no lock
    public let url: URL
    /// Frames in the clip, with or without a face.
    public let count: Int
    /// Frames with a measured face.
    public let facesFound: Int
    private let descriptor: Int32

    public init(url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.unreadable(url, Layout.systemError(errno)) }
        do {
            let counts = try Self.validate(fd, url)
            count = counts.frames
            facesFound = counts.faces
        } catch {
            close(fd)
            throw error
        }
        self.url = url
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Frame `i`'s face as measured, nil where the face pass found none.
    public func measured(_ i: Int) throws -> FaceFrame? {
        try record(i, bytes: Layout.recordSize) { raw in
            let r = Layout.Record(bytes: raw)
            guard Int(r.bytes[1]) < Layout.sources.count else {
                throw Self.unreadable(url, "frame \(i) has an unknown face source \(r.bytes[1])")
            }
            return Layout.decodeFace(r)
        }
    }

    /// Frame `i`'s presentation time, when the decoder gave one.
    public func time(_ i: Int) throws -> Double? {
        try record(i, bytes: Layout.faceStart) { Layout.Record(bytes: $0).time }
    }

    /// Reads the first `bytes` bytes of record `i` and hands them to `body`.
    private func record<T>(_ i: Int, bytes: Int, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard i >= 0, i < count else {
            throw FacesError.invalidArgument("frame \(i) is outside the \(count) frames of \(url.path)")
        }
        var buffer = [UInt8](repeating: 0, count: bytes)
        let offset = Layout.headerSize + i * Layout.recordSize
        let got = buffer.withUnsafeMutableBytes { Layout.preadFully(descriptor, $0, offset: offset) }
        guard got == bytes else {
            // The size was checked when opening, so a short read means the file changed or the disk failed.
            let why = got < 0 ? Layout.systemError(errno) : "the file ends inside frame \(i); it changed after it was opened"
            throw Self.unreadable(url, why)
        }
        return try buffer.withUnsafeBytes(body)
    }

    /// Checks the header against the format and the file's size.
    private static func validate(_ fd: Int32, _ url: URL) throws -> (frames: Int, faces: Int) {
        var header = [UInt8](repeating: 0, count: Layout.headerSize)
        let got = header.withUnsafeMutableBytes { Layout.preadFully(fd, $0, offset: 0) }
        guard got >= 0 else { throw unreadable(url, Layout.systemError(errno)) }
        guard got == Layout.headerSize else {
            throw unreadable(url, "it holds \(got) bytes, less than the \(Layout.headerSize)-byte header")
        }
        return try header.withUnsafeBytes { raw in
            let h = Layout.Record(bytes: raw)
            guard raw.prefix(Layout.magic.count).elementsEqual(Layout.magic) else {
                throw unreadable(url, "it is not a face measurements file (no AVZFACE1 header)")
            }
            guard h.u32(8) == Layout.version else {
                throw unreadable(url, "it is format version \(h.u32(8)); this avatarize reads version \(Layout.version)")
            }
            guard h.u32(12) == UInt32(Layout.recordSize), h.u32(16) == UInt32(Layout.landmarkCount) else {
                throw unreadable(url, "its records are \(h.u32(12)) bytes with \(h.u32(16)) landmarks, "
                    + "not \(Layout.recordSize) bytes with \(Layout.landmarkCount)")
            }
            guard let count = Int(exactly: h.u64(24)), let faces = Int(exactly: h.u64(32)), faces <= count else {
                throw unreadable(url, "its header counts \(h.u64(32)) faces in \(h.u64(24)) frames")
            }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw unreadable(url, Layout.systemError(errno)) }
            let (body, overflow) = count.multipliedReportingOverflow(by: Layout.recordSize)
            guard !overflow, Int(st.st_size) == Layout.headerSize + body else {
                throw unreadable(url, "it is \(st.st_size) bytes, but \(count) frames take "
                    + "\(overflow ? "more than any file" : "\(Layout.headerSize + body) bytes") (truncated or damaged)")
            }
            return (count, faces)
        }
    }

    static func unreadable(_ url: URL, _ reason: String) -> FacesError {
        .measurementsUnreadable(path: url.path, reason: reason)
    }
}

extension MeasuredFaceFile {
    /// Writes a measurements file frame by frame. The records go to a hidden sibling of `url` that
    /// `finish()` renames into place, so `url` only ever holds a complete file; `cancel()` (or dropping
    /// an unfinished writer) removes the sibling.
    public final class Writer {
        public let url: URL
        private let temporaryURL: URL
        /// -1 once finished or cancelled.
        private var descriptor: Int32
        private var pending: [UInt8] = []
        private var count = 0
        private var facesFound = 0
        /// Records gathered before one `write`: few system calls, little memory.
        static let recordsPerWrite = 64

        public init(url: URL) throws {
            self.url = url
            temporaryURL = url.deletingLastPathComponent()
                .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
            descriptor = open(temporaryURL.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw Self.unwritable(url, Layout.systemError(errno)) }
            // Room for the header, zero counts for now; `finish` writes the counts once they are known.
            pending = Layout.header(count: 0, facesFound: 0)
            pending.reserveCapacity(Layout.headerSize + Self.recordsPerWrite * Layout.recordSize)
        }

        deinit { cancel() }

        /// Adds the next frame: its measured face (nil when none was found) and its presentation time.
        public func append(_ measured: FaceFrame?, time: Double?) throws {
            guard descriptor >= 0 else { throw Self.unwritable(url, "the file is already finished or cancelled") }
            if let face = measured, face.landmarks.count != Layout.landmarkCount {
                throw Self.unwritable(url, "frame \(count)'s face has \(face.landmarks.count) landmarks; "
                    + "the records hold \(Layout.landmarkCount)")
            }
            Layout.appendRecord(measured, time: time, to: &pending)
            count += 1
            if measured != nil { facesFound += 1 }
            if pending.count >= Self.recordsPerWrite * Layout.recordSize { try flush() }
        }

        /// Writes what is left and the header, and moves the file to `url` (replacing any file there).
        public func finish() throws {
            guard descriptor >= 0 else { throw Self.unwritable(url, "the file is already finished or cancelled") }
            do {
                try flush()
                let header = Layout.header(count: count, facesFound: facesFound)
                let wrote = header.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
                guard wrote == header.count else { throw Self.unwritable(url, Layout.systemError(errno)) }
                // On disk before the rename, so a crash leaves the old file or the whole new one.
                guard fsync(descriptor) == 0 else { throw Self.unwritable(url, Layout.systemError(errno)) }
                close(descriptor)
                descriptor = -1
                guard rename(temporaryURL.path, url.path) == 0 else { throw Self.unwritable(url, Layout.systemError(errno)) }
            } catch {
                cancel()
                throw error
            }
        }

        /// Drops what was written. Safe to call more than once, and after `finish`.
        public func cancel() {
            if descriptor >= 0 {
                close(descriptor)
                descriptor = -1
            }
            unlink(temporaryURL.path)
        }

        private func flush() throws {
            var done = 0
            while done < pending.count {
                let n = pending.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, $0.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw Self.unwritable(url, Layout.systemError(errno)) }
                done += n
            }
            pending.removeAll(keepingCapacity: true)
        }

        static func unwritable(_ url: URL, _ reason: String) -> FacesError {
            .measurementsUnwritable(path: url.path, reason: reason)
        }
    }
}

extension MeasuredFaceFile {
    /// Byte layout of the header and the records (see the type's documentation).
    enum Layout {
        static let magic = Array("AVZFACE1".utf8)
        static let version: UInt32 = 1
        static let headerSize = 64
        /// The shape predictor's 68 iBUG points.
        static let landmarkCount = 68
        static let hasFace: UInt8 = 1, hasTime: UInt8 = 2, faceHasTime: UInt8 = 4, faceHasBox: UInt8 = 8
        /// Where a record's face starts: after flags, source, padding and the frame's time.
        static let faceStart = 16
        static let landmarksStart = faceStart + 8 + 8 + 4 * 8
        /// Raw quad (6), raw pose (4), quad (6), pose (4) after the landmarks.
        static let recordSize = landmarksStart + landmarkCount * 2 * 8 + 20 * 8
        static let sources: [FaceFrame.Source] = [.detected, .tracked, .filled]

        static func header(count: Int, facesFound: Int) -> [UInt8] {
            var out = magic
            put(version, &out)
            put(UInt32(recordSize), &out)
            put(UInt32(landmarkCount), &out)
            put(UInt32(0), &out)
            put(UInt64(count), &out)
            put(UInt64(facesFound), &out)
            out += [UInt8](repeating: 0, count: headerSize - out.count)
            return out
        }

        static func appendRecord(_ face: FaceFrame?, time: Double?, to out: inout [UInt8]) {
            let start = out.count
            var flags: UInt8 = time == nil ? 0 : hasTime
            if let face {
                flags |= hasFace | (face.time == nil ? 0 : faceHasTime) | (face.box == nil ? 0 : faceHasBox)
            }
            out.append(flags)
            out.append(UInt8(face.map { sources.firstIndex(of: $0.source)! } ?? 0))
            out += [UInt8](repeating: 0, count: 6)
            put(time ?? 0, &out)
            if let f = face {
                put(UInt64(bitPattern: Int64(f.index)), &out)
                put(f.time ?? 0, &out)
                for v in [f.box?.left, f.box?.top, f.box?.right, f.box?.bottom] { put(UInt64(bitPattern: Int64(v ?? 0)), &out) }
                for p in f.landmarks { put(p.x, &out); put(p.y, &out) }
                for v in numbers(f.rawQuad, f.rawPose) + numbers(f.quad, f.pose) { put(v, &out) }
            }
            out += [UInt8](repeating: 0, count: start + recordSize - out.count)
        }

        static func numbers(_ q: AlignmentQuad, _ p: HeadPose) -> [Double] {
            [q.center.x, q.center.y, q.x.x, q.x.y, q.y.x, q.y.y, p.yaw, p.pitch, p.roll, p.residual]
        }

        /// The face in a whole record whose source byte has been checked.
        static func decodeFace(_ r: Record) -> FaceFrame? {
            let flags = r.bytes[0]
            guard flags & hasFace != 0 else { return nil }
            let box = flags & faceHasBox == 0 ? nil
                : DlibRect(left: r.int(32), top: r.int(40), right: r.int(48), bottom: r.int(56))
            let landmarks = (0..<landmarkCount).map { k in
                Point2(x: r.f64(landmarksStart + 16 * k), y: r.f64(landmarksStart + 16 * k + 8))
            }
            let v = (0..<20).map { r.f64(landmarksStart + landmarkCount * 16 + 8 * $0) }
            var face = FaceFrame(index: r.int(faceStart), time: flags & faceHasTime == 0 ? nil : r.f64(faceStart + 8),
                                 source: sources[Int(r.bytes[1])], box: box, landmarks: landmarks,
                                 rawQuad: quad(v[0...]), rawPose: pose(v[6...]))
            face.quad = quad(v[10...])
            face.pose = pose(v[16...])
            return face
        }

        static func quad(_ v: ArraySlice<Double>) -> AlignmentQuad {
            let i = v.startIndex
            return AlignmentQuad(center: Point2(x: v[i], y: v[i + 1]), x: Point2(x: v[i + 2], y: v[i + 3]),
                                 y: Point2(x: v[i + 4], y: v[i + 5]))
        }

        static func pose(_ v: ArraySlice<Double>) -> HeadPose {
            let i = v.startIndex
            return HeadPose(yaw: v[i], pitch: v[i + 1], roll: v[i + 2], residual: v[i + 3])
        }

        static func put(_ v: UInt32, _ out: inout [UInt8]) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        static func put(_ v: UInt64, _ out: inout [UInt8]) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        static func put(_ v: Double, _ out: inout [UInt8]) { put(v.bitPattern, &out) }

        /// Little-endian reads from a header or record.
        struct Record {
            let bytes: UnsafeRawBufferPointer
            func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
            func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            func f64(_ at: Int) -> Double { Double(bitPattern: u64(at)) }
            func int(_ at: Int) -> Int { Int(Int64(bitPattern: u64(at))) }
            var time: Double? { bytes[0] & hasTime == 0 ? nil : f64(8) }
        }

        /// `pread` until `buffer` is full or the file ends; the bytes read, or −1 on an error (see errno).
        static func preadFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int {
            var done = 0
            while done < buffer.count {
                let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return -1 }
                if n == 0 { break }
                done += n
            }
            return done
        }

        static func systemError(_ code: Int32) -> String { String(cString: strerror(code)) }
    }
}
