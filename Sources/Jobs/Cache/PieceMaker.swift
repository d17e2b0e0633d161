import Foundation
import Logging
import Video

/// Makes each intermediate file of a shared clip (a face pass, a segment's track or video) once among every worker
/// that shares a work folder, coordinated through the queue's piece ledger rather than file locks (which do not hold
/// across machines on network filesystems). A piece is claimed in one transaction; its maker writes a temporary
/// sibling, renews its lease while it works, renames the file into place and only then records it done, so a piece
/// is read only once it is whole. A waiter asks again every poll interval and takes the piece over when its maker's
/// lease runs out (the maker died); a piece recorded done whose file is gone (evicted, or another machine's private
/// folder) is made again. The ledger counts every make, so a piece made twice shows.
public final class PieceMaker: Sendable {
    /// Where the pieces live: the shared work folder (`--work-dir`), else this machine's jobs cache.
    public let folder: URL
    let queue: any JobQueue
    /// The worker's name; each make gets a token of its own from it (`WORKER/piece-N`).
    let worker: String
    let lease: TimeInterval
    let pollInterval: TimeInterval
    let logger: Logger
    private let makes = Locked(0)
    private let storage = Locked<String?>(nil)

    /// The file in a work folder holding its identity, which prefixes its pieces' keys: the ledger's rows then belong to
    /// the folder, whatever path each machine mounts it at, and private folders of two machines never share a row.
    public static let identityFileName = ".avatarize-work-folder"

    public init(folder: URL, queue: any JobQueue, worker: String, lease: TimeInterval, pollInterval: TimeInterval,
                logger: Logger = Logger(label: "avatarize.pieces")) {
        self.folder = folder
        self.queue = queue
        self.worker = worker
        self.lease = lease
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// The work folder's identity: read from its identity file, or made by whoever comes first. The file is written
    /// beside and then hard-linked into place, which fails for every process but one, so all agree on one identity.
    public func folderIdentity() throws -> String {
        if let known = storage.value { return known }
        let file = folder.appendingPathComponent(Self.identityFileName)
        func read() -> String? {
            (try? String(contentsOf: file, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .flatMap { $0.isEmpty ? nil : $0 }
        }
        if let id = read() {
            storage.value = id
            return id
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw JobRunError.cannotWrite(folder.path, error.localizedDescription)
        }
        let tmp = temporarySibling(of: file)
        defer { try? FileManager.default.removeItem(at: tmp) }
        do {
            try Data((UUID().uuidString.lowercased() + "\n").utf8).write(to: tmp)
        } catch {
            throw JobRunError.cannotWrite(file.path, error.localizedDescription)
        }
        guard link(tmp.path, file.path) == 0 || errno == EEXIST else {
            throw JobRunError.cannotWrite(file.path, String(cString: strerror(errno)))
        }
        guard let id = read() else { throw JobRunError.cannotWrite(file.path, "it holds no work folder identity") }
        storage.value = id
        return id
    }

    /// The ledger key of piece `name`.
    public func key(_ name: String) throws -> String { try folderIdentity() + "/" + name }

    /// The piece `name` in the work folder, made by `make` (which writes the temporary path it is given) unless it is
    /// made already; waits while another worker makes it. Blocks the calling thread (a job's own thread).
    /// `companions`: files `make` writes beside the piece (renamed into place before it); a piece without them is
    /// made again.
    func piece(_ name: String, companions: [String] = [], cancellation: CancellationFlag, make: (URL) throws -> Void) throws -> URL {
        let target = folder.appendingPathComponent(name)
        let files = [target] + companions.map(folder.appendingPathComponent)
        func present() -> Bool { files.allSatisfy { FileManager.default.fileExists(atPath: $0.path) } }
        let key = try key(name)
        let token = "\(worker)/piece-\(makes.mutate { n -> Int in n += 1; return n })"
        var awaited: String?? = nil
        while true {
            if cancellation.isSet { throw JobRunError.stopped(target.path) }
            let missing = !present()
            let claim = try ledger { try await self.queue.claimPiece(key, owner: token, lease: self.lease, fileMissing: missing) }
            switch claim {
            case .done:
                // Gone since the look above: the next claim asks as one whose file is missing.
                if present() {
                    files.forEach(TrackCache.touch)
                    return target
                }
            case .busy(let owner):
                if awaited != .some(owner) {
                    logger.info("waiting for \(name), which \(owner ?? "another worker") is making")
                    awaited = .some(owner)
                }
                Thread.sleep(forTimeInterval: pollInterval)
            case .make(let attempt):
                if attempt > 1 {
                    let removed = files.reduce(0) { $0 + removeLeftovers(of: $1) }
                    let note = removed > 0 ? "; removed \(removed) partial file(s) it left" : ""
                    logger.info("making \(name) again (make \(attempt)): its last maker stopped or its file is gone\(note)")
                }
                try makeInPlace(name, key: key, token: token, into: target, make)
                if try ledger({ try await self.queue.finishPiece(key, owner: token) }) { return target }
                // Another worker took it over while this one was slow; its identical file replaces this one.
                logger.warning("\(name): lost the lease while making it; waiting for its new maker")
            }
        }
    }

    /// Makes the piece into a temporary sibling under a renewed lease and renames it into place; on failure gives the
    /// piece up so that the next claimer need not wait out the lease.
    private func makeInPlace(_ name: String, key: String, token: String, into target: URL, _ body: (URL) throws -> Void) throws {
        let renewal = Task { [queue, lease, logger] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(lease / 3, 0.05) * 1e9))
                if Task.isCancelled { return }
                do {
                    if try await queue.renewPiece(key, owner: token, lease: lease) == false { return }
                } catch {
                    // A missed renewal is survivable: the lease has room for two.
                    logger.warning("renewing the lease on \(name) failed: \(error)")
                }
            }
        }
        defer { renewal.cancel() }
        let tmp = temporarySibling(of: target)
        do {
            try body(tmp)
            guard rename(tmp.path, target.path) == 0 else { throw JobRunError.cannotWrite(target.path, String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            try? ledger { try await self.queue.abandonPiece(key, owner: token) }
            throw error
        }
    }

    /// Removes the temporary files a dead maker of `target` left (`.NAME.partial-…`, and its writers' own temporaries
    /// of those); returns how many.
    func removeLeftovers(of target: URL) -> Int {
        let base = target.deletingPathExtension().lastPathComponent + ".partial-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(".") && name.drop(while: { $0 == "." }).hasPrefix(base) {
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed += 1 }
        }
        return removed
    }

    /// Runs a ledger call from the job's thread, retrying briefly when the database is unreachable (a restart).
    private func ledger<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        var attempt = 0
        while true {
            let result = Locked<Result<T, any Error>?>(nil)
            let done = DispatchSemaphore(value: 0)
            Task {
                do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
                done.signal()
            }
            done.wait()
            switch result.value! {
            case .success(let value): return value
            case .failure(let error as QueueError) where attempt < 4:
                if case .database = error {} else { throw error }
                attempt += 1
                logger.warning("the piece ledger could not be reached (\(error)); trying again")
                Thread.sleep(forTimeInterval: 0.5 * Double(attempt))
            case .failure(let error): throw error
            }
        }
    }
}
