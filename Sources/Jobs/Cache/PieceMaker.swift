import Foundation
import Logging
import Video

/// Makes each intermediate file of a shared clip (a face pass, a segment's track or video) once among every worker
/// that shares a work folder, coordinated through the queue's piece ledger rather than file locks (which do not hold
/// across machines on network filesystems). A piece is claimed in one transaction; its maker writes temporary
/// siblings, renews its lease as it progresses (`PieceMake.proceed`), confirms it still holds the piece, places the
/// files without replacing any that is there, flushes them with their folder, and only then records the piece done;
/// so a piece is read only once it is whole and durable, and a maker that lost its lease never swaps a file others
/// read. A waiter asks again every poll interval and takes the piece over when its maker's lease runs out (the maker
/// died or hung); a piece recorded done whose file is gone (evicted) is made again once a listing of the folder,
/// after a grace period, agrees that it is gone. The ledger counts every make, so a piece made twice shows.
public final class PieceMaker: Sendable {
    /// Where the pieces live: the shared work folder (`--work-dir`), else this machine's jobs cache.
    public let folder: URL
    let ledger: any PieceLedger
    /// The worker's name; each make gets a token of its own from it (`WORKER/piece-N`).
    let worker: String
    let lease: TimeInterval
    let pollInterval: TimeInterval
    /// How long a piece recorded done but not seen waits before the folder is listed again (NFS caches a failed
    /// lookup for up to a minute unless mounted with `lookupcache=positive`).
    let missingGrace: TimeInterval
    /// A make that has not progressed for this long hangs: its lease is no longer renewed, so another takes over.
    let stallLimit: TimeInterval
    /// Seconds on a clock that only moves forward; leases are reckoned by it (tests drive it by hand).
    let clock: @Sendable () -> TimeInterval
    /// Waits this long (tests pass a hook that does something in the meantime instead).
    let pause: @Sendable (TimeInterval) -> Void
    let logger: Logger
    private let makes = Locked(0)
    private let storage = Locked<String?>(nil)

    /// The file in a work folder holding its identity, which prefixes its pieces' keys: the ledger's rows then belong to
    /// the folder, whatever path each machine mounts it at, and private folders of two machines never share a row.
    public static let identityFileName = ".avatarize-work-folder"

    public convenience init(folder: URL, ledger: any PieceLedger, worker: String, lease: TimeInterval, pollInterval: TimeInterval,
                missingGrace: TimeInterval? = nil, stallLimit: TimeInterval? = nil, logger: Logger = Logger(label: "avatarize.pieces")) {
        // Ten leases, at least five minutes: longer than any stretch without progress a working make has (loading
        // models on a busy machine), short enough that a hung one does not hold up a batch for long.
        self.init(folder: folder, ledger: ledger, worker: worker, lease: lease, pollInterval: pollInterval,
                  missingGrace: missingGrace ?? max(pollInterval, 2), stallLimit: stallLimit ?? max(lease * 10, 300), clock: { ProcessInfo.processInfo.systemUptime },
                  pause: { Thread.sleep(forTimeInterval: $0) }, logger: logger)
    }

    init(folder: URL, ledger: any PieceLedger, worker: String, lease: TimeInterval, pollInterval: TimeInterval, missingGrace: TimeInterval,
         stallLimit: TimeInterval, clock: @escaping @Sendable () -> TimeInterval, pause: @escaping @Sendable (TimeInterval) -> Void, logger: Logger) {
        self.folder = folder
        self.ledger = ledger
        self.worker = worker
        self.lease = lease
        self.pollInterval = pollInterval
        self.missingGrace = missingGrace
        self.stallLimit = stallLimit
        self.clock = clock
        self.pause = pause
        self.logger = logger
    }

    /// The work folder's identity: read from its identity file, or made by whoever comes first. The file is created
    /// with O_EXCL, which fails for every process but one (NFS v3 and later included) and needs no hard links, so
    /// all agree on one identity.
    public func folderIdentity() throws -> String {
        if let known = storage.value { return known }
        let file = folder.appendingPathComponent(Self.identityFileName)
        func read() -> String? { Self.existingIdentity(of: folder) }
        if let id = read() {
            storage.value = id
            return id
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw JobRunError.cannotWrite(folder.path, error.localizedDescription)
        }
        let fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd >= 0 {
            let id = UUID().uuidString.lowercased()
            let bytes = Array((id + "\n").utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let synced = fsync(fd) == 0
            close(fd)
            guard written == bytes.count, synced else {
                let reason = String(cString: strerror(errno))
                unlink(file.path)
                throw JobRunError.cannotWrite(file.path, reason)
            }
            try? FilePlacement.syncFolder(folder)
            storage.value = id
            return id
        }
        guard errno == EEXIST else { throw JobRunError.cannotWrite(file.path, String(cString: strerror(errno))) }
        // Another process created it a moment ago and may not have written it yet.
        for _ in 0..<50 {
            if let id = read() {
                storage.value = id
                return id
            }
            pause(0.1)
        }
        throw JobRunError.cannotWrite(file.path, "it holds no work folder identity (a worker died while creating it? remove it while no worker runs)")
    }

    /// The identity `folder` already has, nil while none was made (no ledger row is keyed by it then).
    public static func existingIdentity(of folder: URL) -> String? {
        (try? String(contentsOf: folder.appendingPathComponent(identityFileName), encoding: .utf8))
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The ledger key of piece `name`.
    public func key(_ name: String) throws -> String { try folderIdentity() + "/" + name }

    /// The piece `name` in the work folder, made by `make` (which writes `PieceMake.file` and calls `proceed` as it
    /// goes) unless it is made already; waits while another worker makes it. Blocks the calling thread (a job's own).
    /// `companions`: files `make` writes beside the piece (`PieceMake.companions`, placed before it); a piece without
    /// them is made again.
    func piece(_ name: String, companions: [String] = [], cancellation: CancellationFlag, make: (PieceMake) throws -> Void) throws -> URL {
        let target = folder.appendingPathComponent(name)
        let files = [target] + companions.map(folder.appendingPathComponent)
        func present() -> Bool { files.allSatisfy { FileManager.default.fileExists(atPath: $0.path) } }
        let key = try key(name)
        let token = "\(worker)/piece-\(makes.mutate { n -> Int in n += 1; return n })"
        var awaited: String?? = nil
        // A done piece is taken over for a missing file only once a listing after the grace period agreed.
        var confirmedMissing = false
        while true {
            if cancellation.isSet { throw JobRunError.stopped(target.path) }
            let claimedAt = clock()
            let missing = confirmedMissing
            let claim = try askLedger { try await self.ledger.claimPiece(key, owner: token, lease: self.lease, fileMissing: missing) }
            switch claim {
            case .done:
                if present() {
                    files.forEach(TrackCache.touch)
                    return target
                }
                if confirmedMissing {
                    // Made again by another worker since the listing: look afresh.
                    confirmedMissing = false
                    continue
                }
                // NFS may answer "no such file" from a cache for a file made on another machine: listing the folder
                // asks the server. Remaking it would swap a file others may be reading.
                pause(missingGrace)
                if listed(files) {
                    files.forEach(TrackCache.touch)
                    return target
                }
                logger.info("\(name) is recorded made but its file is gone; making it again")
                confirmedMissing = true
            case .busy(let owner):
                if awaited != .some(owner) {
                    logger.info("waiting for \(name), which \(owner ?? "another worker") is making")
                    awaited = .some(owner)
                }
                pause(pollInterval)
            case .make(let attempt):
                confirmedMissing = false
                if present() {
                    // Placed whole by a maker that died before recording it (files are only ever placed whole).
                    try FilePlacement.syncFolder(folder)
                    if try askLedger({ try await self.ledger.finishPiece(key, owner: token) }) {
                        logger.info("\(name) was in place but not recorded made (its maker stopped): recorded it")
                        return target
                    }
                    continue
                }
                if attempt > 1 {
                    let removed = files.reduce(0) { $0 + removeLeftovers(of: $1) }
                    let note = removed > 0 ? "; removed \(removed) partial file(s) it left" : ""
                    logger.info("making \(name) again (make \(attempt)): its last maker stopped or its file is gone\(note)")
                }
                guard try makeAndPlace(name, key: key, token: token, claimedAt: claimedAt, files: files,
                                       cancellation: cancellation, make) else {
                    logger.warning("\(name): lost the lease while making it; waiting for its new maker")
                    try? askLedger { try await self.ledger.abandonPiece(key, owner: token) }
                    continue
                }
                if try askLedger({ try await self.ledger.finishPiece(key, owner: token) }) { return target }
                // Taken over between the placement and now: the new maker finds the file in place and records it.
                logger.warning("\(name): lost the lease just after placing it; its new maker records it")
            }
        }
    }

    /// True when a listing of the folder shows every one of `files`.
    private func listed(_ files: [URL]) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return false }
        return Set(files.map(\.lastPathComponent)).isSubset(of: names)
    }

    /// Makes the piece into temporary siblings, then, if the lease still holds, places them (companions first) and
    /// flushes the folder. False when the lease was lost: nothing was placed. On failure gives the piece up so that
    /// the next claimer need not wait out the lease.
    private func makeAndPlace(_ name: String, key: String, token: String, claimedAt: TimeInterval, files: [URL],
                              cancellation: CancellationFlag, _ body: (PieceMake) throws -> Void) throws -> Bool {
        let temporaries = files.map(temporarySibling)
        let make = PieceMake(name: name, file: temporaries[0], companions: Array(temporaries.dropFirst()), claimedAt: claimedAt,
                             lease: lease, stallLimit: stallLimit, clock: clock, cancellation: cancellation, logger: logger) { [ledger, lease] patient in
            try self.askLedger(retrying: patient) { try await ledger.renewPiece(key, owner: token, lease: lease) }
        }
        func discard() { temporaries.forEach { unlink($0.path) } }
        // Renews between progress calls (a thread of its own: a renewal blocks while it waits for the database).
        let finished = DispatchSemaphore(value: 0)
        let ticker = Thread { [lease] in
            while finished.wait(timeout: .now() + max(lease / 3, 0.05)) == .timedOut { make.tick() }
        }
        ticker.name = "avatarize-piece-lease"
        ticker.start()
        defer { finished.signal() }
        do {
            try body(make)
            if make.lost && !cancellation.isSet {
                discard()
                return false
            }
            if cancellation.isSet { throw JobRunError.stopped(files[0].path) }
            guard try make.confirm() else {
                discard()
                return false
            }
            for (temporary, file) in zip(temporaries, files).reversed() {
                if try FilePlacement.place(temporary, at: file) == .alreadyThere {
                    logger.info("\(file.lastPathComponent) was placed by another maker meanwhile; keeping that one")
                }
            }
            try FilePlacement.syncFolder(folder)
            return true
        } catch {
            discard()
            if make.lost && !cancellation.isSet { return false }
            try? askLedger { try await self.ledger.abandonPiece(key, owner: token) }
            throw error
        }
    }

    /// Removes the temporary files a dead maker of `target` left (`.STEM.partial-UNIQUE.EXT`, its writers' own
    /// temporaries of those, and their side files such as `….EXT.columns`); returns how many. The whole name is matched, extension included, so that remaking
    /// `STEM.track` leaves another worker's live `STEM.faces` temporary alone.
    func removeLeftovers(of target: URL) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return 0 }
        var removed = 0
        for name in names where Self.isTemporary(name, of: target.lastPathComponent) {
            if unlink(folder.appendingPathComponent(name).path) == 0 { removed += 1 }
        }
        return removed
    }

    /// True when `name` is a temporary sibling (`temporarySibling`) of the file `target`, or one of those's.
    static func isTemporary(_ name: String, of target: String) -> Bool {
        let ext = (target as NSString).pathExtension
        let stem = ext.isEmpty ? target : String(target.dropLast(ext.count + 1))
        guard name.hasPrefix(".") else { return false }
        let bare = name.drop(while: { $0 == "." })
        guard bare.hasPrefix(stem + ".partial-") else { return false }
        let rest = bare.dropFirst(stem.count + ".partial-".count)
        // PID-RANDOM, then (once per nested temporary) .partial-PID-RANDOM, then the extension.
        // A writer may keep a side file next to its temporary (the track writer's `.columns` spool): one more
        // extension of letters after the target's own.
        let parts = rest.components(separatedBy: ".partial-")
        var last = Substring(parts.last ?? "")
        if let dot = last.lastIndex(of: "."), dot != last.startIndex, last[last.index(after: dot)...].allSatisfy(\.isLetter) {
            let before = last[..<dot]
            if ext.isEmpty ? !before.contains(".") : before.hasSuffix("." + ext) { last = before }
        }
        let tail = ext.isEmpty ? String(last) : (last.hasSuffix("." + ext) ? String(last.dropLast(ext.count + 1)) : "")
        let uniques = parts.dropLast().map { $0 } + [tail]
        return uniques.allSatisfy { unique in
            let halves = unique.split(separator: "-", omittingEmptySubsequences: false)
            return halves.count == 2 && halves.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        }
    }

    /// Runs a ledger call from the job's thread, retrying briefly when the database is unreachable (a restart).
    private func askLedger<T: Sendable>(retrying: Bool = true, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        var attempt = 0
        while true {
            switch waitFor(body) {
            case .success(let value): return value
            case .failure(let error as QueueError) where retrying && attempt < 4:
                if case .database = error {} else { throw error }
                attempt += 1
                logger.warning("the piece ledger could not be reached (\(error)); trying again")
                pause(0.5 * Double(attempt))
            case .failure(let error): throw error
            }
        }
    }
}

/// Runs async code to its end from a thread outside the concurrency pool (a job's own thread), which it blocks.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let result = Locked<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return result.value!
}
