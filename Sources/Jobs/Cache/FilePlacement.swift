import Foundation
import Video

/// Puts finished files into a shared work folder without ever replacing one that is there, and makes them durable
/// before anyone is told they exist. A plain `rename` replaces its target, so a maker that lost its lease (and does
/// not know it yet) would swap a file other machines may be reading; these calls refuse instead.
enum FilePlacement {
    /// How `place` put a file in.
    enum Outcome: Equatable {
        /// `temporary` is now `target`.
        case placed
        /// `target` was there already (another maker of the same piece placed it): `temporary` is removed.
        case alreadyThere
    }

    /// Moves `temporary` to `target` unless `target` exists: `renameat2(RENAME_NOREPLACE)` where the filesystem has
    /// it, else `link` then `unlink` (NFS). The file is flushed to disk first; the folder is flushed by `syncFolder`.
    static func place(_ temporary: URL, at target: URL) throws -> Outcome {
        try syncFile(temporary)
        if let renameNoReplace, renameNoReplace(AT_FDCWD, temporary.path, AT_FDCWD, target.path, 1 /* RENAME_NOREPLACE */) == 0 {
            return .placed
        }
        // Without renameat2 in this C library, errno is stale: go straight to link.
        let renameError = renameNoReplace == nil ? EINVAL : errno
        if renameError == EEXIST { return discard(temporary) }
        guard [EINVAL, ENOSYS, ENOTSUP, EOPNOTSUPP, EPERM].contains(renameError) else { throw failure(target, renameError) }
        if link(temporary.path, target.path) == 0 {
            unlink(temporary.path)
            return .placed
        }
        let linkError = errno
        if linkError == EEXIST {
            // NFS retransmits a LINK whose reply was lost and then reports EEXIST for its own link: same file, placed.
            if sameFile(temporary, target) {
                unlink(temporary.path)
                return .placed
            }
            return discard(temporary)
        }
        if [EPERM, ENOTSUP, EOPNOTSUPP, ENOSYS, EMLINK].contains(linkError) {
            throw JobRunError.cannotWrite(target.path, "the work folder's filesystem can neither rename without replacing nor make hard "
                                          + "links, so a piece could overwrite another machine's; see the README's multi-machine section")
        }
        throw failure(target, linkError)
    }

    /// Flushes a file's data to disk, so that a crash after the ledger says done cannot leave it empty or short.
    static func syncFile(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw failure(url, errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure(url, errno) }
    }

    /// Flushes a folder's entries (the renames into it). Filesystems that cannot sync a folder (some FUSE mounts)
    /// answer EINVAL: they have nothing better to offer, so that is not an error.
    static func syncFolder(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure(url, errno) }
        defer { close(fd) }
        if fsync(fd) != 0, ![EINVAL, ENOTSUP, EOPNOTSUPP, EROFS].contains(errno) { throw failure(url, errno) }
    }

    private static func discard(_ temporary: URL) -> Outcome {
        unlink(temporary.path)
        return .alreadyThere
    }

    private static func failure(_ url: URL, _ code: Int32) -> JobRunError {
        JobRunError.cannotWrite(url.path, String(cString: strerror(code)))
    }

    /// `renameat2` from the C library, looked up at run time: Swift's Glibc module does not declare it.
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameNoReplace: RenameAt2? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
}
