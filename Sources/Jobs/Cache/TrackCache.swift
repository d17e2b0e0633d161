import Foundation

/// The jobs' shared cache of latent tracks and segment pieces (face passes, segment tracks), kept within a size
/// limit by evicting the least recently used files first. A file belongs to the clip whose content digest starts
/// its name; files of clips that a queued or running job still needs are never evicted.
public struct TrackCache: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// One file in the cache.
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        public var bytes: Int64
        /// When a job last made or reused it.
        public var lastUsed: Date
        /// A queued or running job needs the clip it belongs to.
        public var inUse: Bool
    }

    /// Every file, least recently used first. `inUse`: prefixes (16 hex digits) of clip digests still needed.
    public func entries(inUse: Set<String>) -> [Entry] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: folder.path) else { return [] }
        // The work folder's identity stays: its pieces' ledger rows are keyed by it.
        return names.filter { $0 != PieceMaker.identityFileName }.compactMap { name -> Entry? in
            var status = stat()
            guard stat(folder.appendingPathComponent(name).path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
            return Entry(name: name, bytes: Int64(status.st_size),
                         lastUsed: Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9),
                         inUse: inUse.contains(Self.clipPrefix(of: name)))
        }.sorted { ($0.lastUsed, $0.name) < ($1.lastUsed, $1.name) }
    }

    /// The clip a file belongs to: the first 16 characters of its name, past the dots that hide a temporary file
    /// (`.STEM.partial-…`), so that a file another worker is still writing counts as its clip's.
    static func clipPrefix(of name: String) -> String {
        String(name.drop(while: { $0 == "." }).prefix(16))
    }

    /// Removes least recently used files not in use until the cache holds at most `limit` bytes; returns what went.
    /// A temporary file (`.…partial-…`) changed within `partialGrace` seconds of `now` stays whatever its clip: some
    /// worker may still be writing it (a worker's piece lease is the right grace: a maker that wrote nothing for that
    /// long has been taken over).
    @discardableResult
    public func prune(to limit: Int64, inUse: Set<String>, partialGrace: TimeInterval, now: Date = Date()) -> [Entry] {
        let all = entries(inUse: inUse)
        var total = all.reduce(Int64(0)) { $0 + $1.bytes }
        var removed: [Entry] = []
        for entry in all where total > limit && !entry.inUse {
            if entry.name.hasPrefix("."), entry.name.contains(".partial-"), now.timeIntervalSince(entry.lastUsed) < partialGrace { continue }
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry.name))) != nil {
                total -= entry.bytes
                removed.append(entry)
            }
        }
        return removed
    }

    /// Forgets the ledger rows of the pieces whose files `removed` took away, so that the ledger shrinks with the
    /// folder and no row says done for a file that is gone; returns how many rows went. Rows are keyed by the
    /// folder's identity: a folder without one has none. Temporaries (hidden names) have no rows.
    @discardableResult
    public func forgetPieces(of removed: [Entry], in ledger: any PieceLedger) async throws -> Int {
        guard let identity = PieceMaker.existingIdentity(of: folder) else { return 0 }
        let keys = removed.map(\.name).filter { !$0.hasPrefix(".") }.map { identity + "/" + $0 }
        return keys.isEmpty ? 0 : try await ledger.forgetPieces(keys)
    }

    /// Marks a file as just used (its modification time is the LRU clock: access times are not kept reliably).
    static func touch(_ url: URL) {
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: url.path)
    }

    /// Digest prefixes of the clips that queued or running jobs need (an index lookup: see `JobQueue.clipsInUse`).
    public static func clipsInUse(_ queue: any JobQueue) async throws -> Set<String> {
        try await queue.clipsInUse()
    }

    /// Parses sizes such as `2G`, `500M`, `64k` or a plain byte count (powers of 1024); nil for what is not a size
    /// or does not fit in 64 bits (`9000000T`).
    public static func parseSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = trimmed
        var scale: Int64 = 1
        if digits.hasSuffix("B") { digits.removeLast() }
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits.removeLast()
        }
        guard let value = Double(digits), value >= 0, value.isFinite else { return nil }
        let bytes = value * Double(scale)
        // Double(Int64.max) rounds up to 2^63, which itself does not fit: the comparison must be strict.
        guard bytes < Double(Int64.max) else { return nil }
        return Int64(bytes)
    }
}
