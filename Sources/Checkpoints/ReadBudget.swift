// One allowance for everything a checkpoint can make the reader allocate or do, scaled to the file's size
// and shared by every pickle inside it (the five of a legacy file, each storage blob of a network pickle):
// container items, stack and memo entries, bytes copied, blobs re-read. Each is charged before it is made,
// so a file that asks for more than its size can justify fails at once with one error, whatever the opcode
// that would have exhausted memory or time. A real checkpoint spends about its own size (its storage bytes
// are read once); the allowance is several times that.

final class ReadBudget {
    /// Units are bytes of memory (a container item costs its in-memory size) or, for re-reads, bytes of input.
    let limit: Int
    private(set) var spent = 0
    let file: String

    static let perInputByte = 16
    static let floor = 32 << 20

    init(inputSize: Int, file: String) {
        let (scaled, o) = max(inputSize, 0).multipliedReportingOverflow(by: Self.perInputByte)
        limit = o ? Int.max : scaled.addingReportingOverflow(Self.floor).overflow ? Int.max : scaled + Self.floor
        self.file = file
    }

    /// Size of one value in a container, on the stack or in the memo.
    static let item = MemoryLayout<PickleValue>.stride

    /// Charges `units` for `what` (named in the error) at byte `offset` of the pickle being read.
    func charge(_ units: Int, _ what: @autoclosure () -> String, offset: Int) throws {
        let (total, o) = spent.addingReportingOverflow(units)
        guard units >= 0, !o, total <= limit else { throw exceeded(what(), offset) }
        spent = total
    }

    /// Charges `count` container items.
    func chargeItems(_ count: Int, _ what: @autoclosure () -> String, offset: Int) throws {
        let (units, o) = count.multipliedReportingOverflow(by: Self.item)
        guard !o else { throw exceeded(what(), offset) }
        try charge(units, what(), offset: offset)
    }

    private func exceeded(_ what: String, _ offset: Int) -> CheckpointError {
        .malformedPickle(file: file, offset: offset,
                         reason: "\(what) makes the reader exceed its budget of \(limit) bytes for a file this size (a hostile or corrupt pickle)")
    }
}
