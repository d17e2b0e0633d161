/// Flags a shot cut when the whole picture changes at once: the mean absolute change of a 16×16 grid of
/// block-mean intensities between consecutive frames. A talking head moving, or a face sliding out of
/// frame, changes a few blocks; a cut (or a flash to black) changes nearly all of them.
public struct ShotCutDetector: Sendable {
    /// Mean change (0…255) of the block means that counts as a cut.
    public var threshold: Double
    private var previous: [Double]?

    public init(threshold: Double = 30) {
        self.threshold = threshold
    }

    /// Whether `frame` starts a new shot (never the first frame), and remembers it for the next call.
    public mutating func isCut(_ frame: RGBImage) -> Bool {
        let grid = Self.blockMeans(frame)
        defer { previous = grid }
        guard let previous else { return false }
        return Self.change(previous, grid) > threshold
    }

    public static func change(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(max(a.count, 1))
    }

    /// 16×16 block means of (r+g+b)/3, sampling every other pixel in each direction.
    public static func blockMeans(_ frame: RGBImage) -> [Double] {
        var sums = [Double](repeating: 0, count: 256), counts = [Double](repeating: 0, count: 256)
        let w = frame.width, h = frame.height
        guard w > 0, h > 0 else { return sums }
        frame.pixels.withUnsafeBufferPointer { px in
            for y in stride(from: 0, to: h, by: 2) {
                let by = min(15, y * 16 / h)
                for x in stride(from: 0, to: w, by: 2) {
                    let b = by * 16 + min(15, x * 16 / w)
                    let i = 3 * (y * w + x)
                    sums[b] += Double(Int(px[i]) + Int(px[i + 1]) + Int(px[i + 2])) / 3
                    counts[b] += 1
                }
            }
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / $1 : 0 }
    }
}
