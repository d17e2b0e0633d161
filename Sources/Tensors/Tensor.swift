// A dense float32 tensor in row-major (C) order. Made for one network at batch size 1: images are
// stored planar as [channels, height, width]; no broadcasting machinery, no autograd.

import Foundation

/// A shape plus contiguous float32 storage, row-major.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    /// Wraps `data`; its count must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A scalar (shape []).
    public init(scalar: Float) {
        self.shape = []
        self.data = [scalar]
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Largest absolute value (0 for an empty tensor).
    public var maxAbs: Float {
        data.reduce(0) { Swift.max($0, abs($1)) }
    }

    /// Peak signal-to-noise ratio in dB against `reference`, both clamped to `range` first (as images are
    /// when written), with the range's width as the peak: 10·log₁₀(peak² / mean squared error).
    public func psnr(to reference: Tensor, peakToPeak: Float, clampTo range: ClosedRange<Float>) -> Float {
        precondition(count == reference.count, "psnr: \(shape) against \(reference.shape)")
        var sum: Double = 0
        for i in 0..<count {
            let a = Swift.min(Swift.max(data[i], range.lowerBound), range.upperBound)
            let b = Swift.min(Swift.max(reference.data[i], range.lowerBound), range.upperBound)
            sum += Double(a - b) * Double(a - b)
        }
        let mse = sum / Double(Swift.max(count, 1))
        return mse == 0 ? .infinity : Float(10 * log10(Double(peakToPeak * peakToPeak) / mse))
    }

    /// max |self − other| / max |other|: the parity figure used against reference outputs.
    public func relativeError(to reference: Tensor) -> Float {
        precondition(count == reference.count, "relativeError: \(shape) vs \(reference.shape)")
        var diff: Float = 0
        for i in 0..<count { diff = Swift.max(diff, abs(data[i] - reference.data[i])) }
        let scale = reference.maxAbs
        return scale > 0 ? diff / scale : diff
    }

    /// Rows of a rank-≥1 tensor: element `index` along the first axis.
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0])
        let inner = Array(shape.dropFirst())
        let n = inner.reduce(1, *)
        return Tensor(shape: inner, data: Array(data[index * n ..< (index + 1) * n]))
    }
}
