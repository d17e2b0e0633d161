// Port of TriPlaneNet's tri-plane encoder forward (anantarb/triplanenet models/encoders/triplane_encoders.py and
// triplane_encoders_v2.py, TriPlane_Encoder.forward), layout in TriPlaneRefinerArchitecture. BatchNorm runs in
// eval mode; every conv has padding k/2.
import Foundation
import Tensors

public struct TriPlaneRefiner: Sendable {
    /// The bundle file the refiner's weights live in, beside weights.safetensors.
    public static let bundleFileName = "refiner.safetensors"

    public let architecture: TriPlaneRefinerArchitecture
    public let file: String
    /// The input's height and width (256 for the released networks; planes are the same size).
    public let side: Int
    let trunk: IRSEBackbone
    let steps: [DoubleConv]
    let head: [BiasedConv]
    let headSlopes: [[Float]]

    /// - tensors: names as in the checkpoint without `triplanenet_encoder.`; every tensor is checked.
    public init(file: String, tensors: [String: Tensor], side: Int = EncoderArchitecture.inputSize,
                precision: Precision = .fp32) throws {
        let a = try TriPlaneRefinerArchitecture.infer(from: tensors.mapValues(\.shape), file: file)
        let problems = a.check(shapes: tensors.mapValues(\.shape))
        if !problems.isEmpty { throw EncoderLoadError.weights(file: file, problems: problems) }
        guard side >= 16, side % 16 == 0 else {
            throw EncoderInputError.badImageShape(found: [a.expectedInputChannels, side, side], expected: [a.expectedInputChannels, 256, 256])
        }
        func t(_ name: String) -> Tensor { tensors[name]! }
        architecture = a
        self.file = file
        self.side = side
        trunk = IRSEBackbone(architecture: a.trunk, side: side, precision: precision, tensor: t)
        steps = a.steps.enumerated().map { k, s in
            DoubleConv(prefix: "up\(k + 1).conv.double_conv", step: s, tensor: t, precision: precision)
        }
        let h = a.headPrefix
        head = [BiasedConv(t("\(h).0.weight"), t("\(h).0.bias"), precision: precision),
                BiasedConv(t("\(h).2.weight"), t("\(h).2.bias"), precision: precision),
                BiasedConv(t("\(h).4.weight"), t("\(h).4.bias"), precision: precision)]
        headSlopes = [t("\(h).1.weight").data, t("\(h).3.weight").data]
    }

    /// Reads `refiner.safetensors` of an encoder bundle (or a .safetensors file itself).
    public init(contentsOf url: URL, side: Int = EncoderArchitecture.inputSize, precision: Precision = .fp32) throws {
        var isDir: ObjCBool = false
        let f = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
            ? url.appendingPathComponent(Self.bundleFileName) : url
        guard FileManager.default.fileExists(atPath: f.path) else { throw EncoderLoadError.notAnEncoderBundle(path: f.path) }
        try self.init(file: f.path, tensors: try SafeTensorsFile(url: f).all(), side: side, precision: precision)
    }

    /// The layout of a bundle's refiner, checked from its header alone; nil when the bundle has none.
    public static func architecture(inBundle dir: URL) throws -> TriPlaneRefinerArchitecture? {
        let f = dir.appendingPathComponent(bundleFileName)
        guard FileManager.default.fileExists(atPath: f.path) else { return nil }
        let shapes = try SafeTensorsFile(url: f).entries.mapValues(\.shape)
        let a = try TriPlaneRefinerArchitecture.infer(from: shapes, file: f.path)
        let problems = a.check(shapes: shapes)
        if !problems.isEmpty { throw EncoderLoadError.weights(file: f.path, problems: problems) }
        return a
    }

    /// The input it takes: [6 or 9, side, side].
    public var inputShape: [Int] { [architecture.expectedInputChannels, side, side] }

    /// v1: input [6, S, S] (ŷ ‖ x − ŷ) → offsets [96, S, S] to add to the generator's planes.
    /// v2: input [9, S, S] (ŷ ‖ x − ŷ ‖ mirror(x) − mirror(ŷ)) and the generator's planes [96, S, S] → refined planes.
    public func callAsFunction(_ input: Tensor, planes: Tensor? = nil) throws -> Tensor {
        var shape = input.shape
        if shape.count == 4 && shape[0] == 1 { shape.removeFirst() }
        guard shape == inputShape else { throw EncoderInputError.badImageShape(found: input.shape, expected: inputShape) }
        let planeShape = [TriPlaneRefinerArchitecture.planeChannels, side, side]
        if architecture.version == .v2 {
            guard let planes, planes.count == planeShape.reduce(1, *) else {
                throw EncoderInputError.badImageShape(found: planes?.shape ?? [], expected: planeShape)
            }
        }
        let a = architecture
        let taps = trunk(input.reshaped(shape), taps: TriPlaneRefinerArchitecture.tapUnits)
        let (c0, c1, c2, c3, top) = (taps[0], taps[1], taps[2], taps[3], taps[4])
        var x = steps[0](Self.concatenate(c3, top))
        x = steps[1](Self.concatenate(c2, upsample(x)))
        x = steps[2](Self.concatenate(c1, upsample(x)))
        x = steps[3](Self.concatenate(c0, upsample(x)))
        x = a.version == .v1 ? Self.pixelShuffle(x) : upsample(x)
        if let planes, a.version == .v2 { x = Self.concatenate(planes.reshaped(planeShape), x) }
        x = head[0](x)
        x.prelu(headSlopes[0])
        x = head[1](x)
        x.prelu(headSlopes[1])
        x = head[2](x)
        if let planes, a.version == .v2 {
            for i in 0..<x.count { x.data[i] += planes.data[i] }
        }
        return x
    }

    func upsample(_ x: Tensor) -> Tensor {
        architecture.upsampling == .pixelShuffle ? Self.pixelShuffle(x) : Self.nearest2x(x)
    }

    /// [a ‖ b] along channels (torch.cat(dim=1)).
    static func concatenate(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape.dropFirst() == b.shape.dropFirst(), "concatenating \(a.shape) and \(b.shape)")
        return Tensor(shape: [a.shape[0] + b.shape[0], a.shape[1], a.shape[2]], data: a.data + b.data)
    }

    /// nn.PixelShuffle(2): [4C, H, W] → [C, 2H, 2W], out[c, 2h + i, 2w + j] = in[4c + 2i + j, h, w].
    static func pixelShuffle(_ x: Tensor) -> Tensor {
        let c = x.shape[0] / 4, h = x.shape[1], w = x.shape[2]
        var out = Tensor(zeros: [c, 2 * h, 2 * w])
        for ch in 0..<c {
            for i in 0..<2 {
                for j in 0..<2 {
                    let src = ((ch * 4 + i * 2 + j) * h) * w
                    for y in 0..<h {
                        let row = (ch * 2 * h + 2 * y + i) * 2 * w + j
                        for xx in 0..<w { out.data[row + 2 * xx] = x.data[src + y * w + xx] }
                    }
                }
            }
        }
        return out
    }

    /// nn.Upsample(scale_factor=2) (nearest): out[c, y, x] = in[c, y / 2, x / 2].
    static func nearest2x(_ x: Tensor) -> Tensor {
        let c = x.shape[0], h = x.shape[1], w = x.shape[2]
        var out = Tensor(zeros: [c, 2 * h, 2 * w])
        for ch in 0..<c {
            for y in 0..<(2 * h) {
                let src = (ch * h + y / 2) * w, dst = (ch * 2 * h + y) * 2 * w
                for xx in 0..<(2 * w) { out.data[dst + xx] = x.data[src + xx / 2] }
            }
        }
        return out
    }
}

/// A conv with bias, stride 1, padding k/2.
struct BiasedConv: Sendable {
    let weight: [Float]
    let bias: [Float]
    let outChannels: Int
    let inChannels: Int
    let kernel: Int
    let precision: Precision

    init(_ weight: Tensor, _ bias: Tensor, precision: Precision) {
        self.weight = weight.data
        self.bias = bias.data
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        kernel = weight.shape[2]
        self.precision = precision
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x.shape[1], w = x.shape[2]
        precondition(x.shape[0] == inChannels, "conv takes \(inChannels) channels, given \(x.shape[0])")
        var out = Tensor(zeros: [outChannels, h, w])
        x.data.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { op in
                weight.withUnsafeBufferPointer { wp in
                    Convolution.conv2d(input: xp.baseAddress!, inChannels: inChannels, height: h, width: w, weight: wp.baseAddress!,
                                       outChannels: outChannels, kernel: kernel, padding: kernel / 2, output: op.baseAddress!,
                                       precision: precision)
                }
                bias.withUnsafeBufferPointer {
                    Activation.linear.apply(op.baseAddress!, channels: outChannels, count: h * w, bias: $0.baseAddress!, gain: 1, clamp: nil)
                }
            }
        }
        return out
    }
}

/// TriPlaneNet's DoubleConv: BatchNorm → conv3×3 + bias → PReLU → conv3×3 + bias → PReLU → PReLU.
struct DoubleConv: Sendable {
    let norm: BatchNorm2d
    let conv1: BiasedConv
    let conv2: BiasedConv
    let slopes: [[Float]]

    init(prefix p: String, step: TriPlaneRefinerArchitecture.Step, tensor t: (String) -> Tensor, precision: Precision) {
        norm = BottleneckIRSE.batchNorm(t, "\(p).0")
        conv1 = BiasedConv(t("\(p).1.weight"), t("\(p).1.bias"), precision: precision)
        conv2 = BiasedConv(t("\(p).3.weight"), t("\(p).3.bias"), precision: precision)
        slopes = [t("\(p).2.weight").data, t("\(p).4.weight").data, t("\(p).5.weight").data]
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = x
        y.data.withUnsafeMutableBufferPointer { norm.apply($0.baseAddress!, count: x.shape[1] * x.shape[2]) }
        y = conv1(y)
        y.prelu(slopes[0])
        y = conv2(y)
        y.prelu(slopes[1])
        y.prelu(slopes[2])
        return y
    }
}

extension Tensor {
    /// torch.nn.PReLU in place on [C, H, W].
    mutating func prelu(_ slopes: [Float]) {
        let c = shape[0], n = count / c
        data.withUnsafeMutableBufferPointer { p in
            slopes.withUnsafeBufferPointer { PReLU.apply(p.baseAddress!, channels: c, count: n, slopes: $0.baseAddress!) }
        }
    }
}
