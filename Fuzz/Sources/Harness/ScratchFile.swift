import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One file per fuzzing process for the parsers that read from a path (they `open`/`pread` or map the
/// file): each input is written over it before the parser runs.
public enum ScratchFile {
    public static let url: URL = {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory())
        return dir.appendingPathComponent("avatarize-fuzz-\(getpid())-\(UUID().uuidString)")
    }()

    /// Writes the fuzzer's input to `url` (with `suffix`, for parsers that look at the extension). Plain
    /// write(2), no atomic rename or fsync: Foundation's `createFile` cost 10 ms an input.
    public static func write(_ data: UnsafePointer<UInt8>, _ size: Int, suffix: String = "") -> URL {
        let target = suffix.isEmpty ? url : url.appendingPathExtension(suffix)
        let fd = open(target.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot write the scratch file \(target.path)")
        var done = 0
        while done < size {
            let n = Glibc.write(fd, data + done, size - done)
            precondition(n > 0, "cannot write the scratch file \(target.path)")
            done += n
        }
        close(fd)
        return target
    }
}

/// The input as bytes.
public func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}
