// Memory for a large table read at random, on transparent huge pages where the kernel offers them
// (CKernels' avz_huge_map): the renderer's channels-last tri-planes, whose lookups along a ray step onto new
// 4 KB pages at every depth sample. Freshly mapped for each use, so it is never already backed by small pages.
import CKernels

public final class HugePageBuffer<Element>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Element>
    public let count: Int
    private let bytes: Int

    public init(count: Int) {
        bytes = max(1, count) * MemoryLayout<Element>.stride
        guard let raw = avz_huge_map(bytes) else { fatalError("out of memory: could not map \(bytes) bytes") }
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
        self.count = count
    }

    deinit { avz_huge_unmap(pointer, bytes) }
}
