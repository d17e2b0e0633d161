// The Encoder4Editing layout (omertov/encoder4editing models/encoders/psp_encoders.py and helpers.py,
// get_blocks(50) with bottleneck_IR_SE units), with every width read off the weight shapes so the same
// code runs the narrow parity fixture and the released 512-wide models.
//
// Fixed by the reference: 4 stages of 3 / 4 / 14 / 3 units, the first unit of each stage with stride 2
// (a MaxPool2d(1, 2) shortcut when its width does not change, else a strided 1×1 conv + BatchNorm);
// taps after units 6, 20, 23; styles 0..<3 read the 16² map, 3..<7 the 32² FPN map, 7… the 64² FPN map,
// each GradualStyleBlock with log2(spatial) stride-2 3×3 convs; a 256² input.

/// What turns the IR-SE50 trunk's output into W+ codes.
public enum EncoderHead: String, Sendable, Equatable, CaseIterable {
    /// e4e's Encoder4Editing: an FPN over three taps and one GradualStyleBlock per style (the FPN layout above).
    case styleBlocks = "Encoder4Editing"
    /// pSp's BackboneEncoderUsingLastLayerIntoWPlus, which PREIM3D's released encoder uses (`--encoder_type
    /// WPlusEncoder`; mybabyyh/Preim3D models/encoders/psp_encoders.py): the last unit's map → BatchNorm2d →
    /// AdaptiveAvgPool2d(7×7) → flatten → Linear(top·49, hidden) → EqualLinear(hidden, styles·w) → (styles, w).
    case wPlus = "WPlusEncoder"
    /// pSp's GradualStyleEncoder, which TriPlaneNet v1 and v2 use for their W+ codes (anantarb/triplanenet
    /// models/encoders/psp_encoders.py): the same FPN and style blocks as e4e's, with the same tensor names,
    /// but every style is its own code (no w0 broadcast, no deltas). The weights cannot tell it from e4e's;
    /// the bundle's model.json says which it is.
    case gradualStyle = "GradualStyleEncoder"
}

public struct EncoderArchitecture: Sendable, Equatable {
    /// One bottleneck_IR_SE unit.
    public struct Unit: Sendable, Equatable {
        public var inChannels: Int
        public var depth: Int
        public var stride: Int
        /// SEModule's hidden width (depth / 16 in the released models).
        public var seHidden: Int
        /// True when the shortcut is MaxPool2d(1, stride) (in == depth), else conv 1×1 + BatchNorm.
        public var poolShortcut: Bool { inChannels == depth }
    }

    /// Units per stage of IR-SE50 (helpers.get_blocks(50)).
    public static let unitsPerStage = [3, 4, 14, 3]
    /// Body units whose outputs feed the FPN: c1 (after unit 6), c2 (after 20), c3 (after 23).
    public static let tapUnits = [6, 20, 23]
    /// First style of the middle and fine groups (coarse_ind, middle_ind).
    public static let coarseEnd = 3
    public static let middleEnd = 7
    /// GradualStyleBlock spatial sizes for the coarse, middle and fine groups.
    public static let groupSpatial = [16, 32, 64]
    /// The image side the style blocks' pooling is built for.
    public static let inputSize = 256
    public static let batchNormEpsilon: Float = 1e-5
    /// nn.LeakyReLU()'s default negative slope, used inside GradualStyleBlock.
    public static let styleLeakySlope: Float = 0.01

    public var inputChannels: Int
    /// input_layer conv width (64 in the released models).
    public var stemWidth: Int
    /// Widths of the four stages (64 / 128 / 256 / 512 in the released models).
    public var stageWidths: [Int]
    /// SE hidden width per unit.
    public var seHidden: [Int]
    /// Number of styles (14 for EG3D, 18 for StyleGAN2 at 1024²).
    public var styleCount: Int
    /// GradualStyleBlock width and size of w (512 in the released models).
    public var styleWidth: Int
    /// The head on the trunk.
    public var head: EncoderHead
    /// WPlusEncoder's pooled map is 7 × 7 (its AdaptiveAvgPool2d((7, 7))).
    public static let wPlusPoolSide = 7

    public init(inputChannels: Int = 3, stemWidth: Int, stageWidths: [Int], seHidden: [Int], styleCount: Int, styleWidth: Int,
                head: EncoderHead = .styleBlocks) {
        precondition(stageWidths.count == 4 && seHidden.count == Self.unitCount)
        self.head = head
        self.inputChannels = inputChannels
        self.stemWidth = stemWidth
        self.stageWidths = stageWidths
        self.seHidden = seHidden
        self.styleCount = styleCount
        self.styleWidth = styleWidth
    }

    /// The released IR-SE50 e4e layout: widths 64 / 128 / 256 / 512, SE reduction 16, w 512.
    public static func released(styleCount: Int = 14) -> EncoderArchitecture {
        let widths = [64, 128, 256, 512]
        var hidden: [Int] = []
        for (s, n) in unitsPerStage.enumerated() { hidden += Array(repeating: widths[s] / 16, count: n) }
        return EncoderArchitecture(stemWidth: 64, stageWidths: widths, seHidden: hidden, styleCount: styleCount, styleWidth: 512)
    }

    public static var unitCount: Int { unitsPerStage.reduce(0, +) }

    /// The body's units in order.
    public var units: [Unit] {
        var out: [Unit] = []
        var inC = stemWidth
        for (s, n) in Self.unitsPerStage.enumerated() {
            for j in 0..<n {
                let i = out.count
                out.append(Unit(inChannels: inC, depth: stageWidths[s], stride: j == 0 ? 2 : 1, seHidden: seHidden[i]))
                inC = stageWidths[s]
            }
        }
        return out
    }

    /// Channels of c1, c2, c3 (the tapped unit outputs).
    public var tapChannels: [Int] { Self.tapUnits.map { units[$0].depth } }

    /// Index of the group (0 coarse, 1 middle, 2 fine) style `i` belongs to.
    public static func group(ofStyle i: Int) -> Int { i < coarseEnd ? 0 : (i < middleEnd ? 1 : 2) }

    /// Number of stride-2 convs in style `i`'s GradualStyleBlock: log2(spatial).
    public static func convCount(ofStyle i: Int) -> Int {
        var n = 0, s = groupSpatial[group(ofStyle: i)]
        while s > 1 { s >>= 1; n += 1 }
        return n
    }

    /// The IR-SE50 trunk's tensors (`input_layer.*`, `body.*`) with their shapes.
    public func trunkShapes() -> [String: [Int]] {
        Self.trunkShapes(inputChannels: inputChannels, stemWidth: stemWidth, units: units)
    }

    /// `input_layer.*` and `body.*` of any IR-SE trunk (GOAE's AFA has 3 stages of 3 units).
    static func trunkShapes(inputChannels: Int, stemWidth: Int, units: [Unit]) -> [String: [Int]] {
        var e: [String: [Int]] = [:]
        func bn(_ p: String, _ c: Int) {
            for k in ["weight", "bias", "running_mean", "running_var"] { e["\(p).\(k)"] = [c] }
        }
        e["input_layer.0.weight"] = [stemWidth, inputChannels, 3, 3]
        bn("input_layer.1", stemWidth)
        e["input_layer.2.weight"] = [stemWidth]
        for (i, u) in units.enumerated() {
            let p = "body.\(i)"
            if !u.poolShortcut {
                e["\(p).shortcut_layer.0.weight"] = [u.depth, u.inChannels, 1, 1]
                bn("\(p).shortcut_layer.1", u.depth)
            }
            bn("\(p).res_layer.0", u.inChannels)
            e["\(p).res_layer.1.weight"] = [u.depth, u.inChannels, 3, 3]
            e["\(p).res_layer.2.weight"] = [u.depth]
            e["\(p).res_layer.3.weight"] = [u.depth, u.depth, 3, 3]
            bn("\(p).res_layer.4", u.depth)
            e["\(p).res_layer.5.fc1.weight"] = [u.seHidden, u.depth, 1, 1]
            e["\(p).res_layer.5.fc2.weight"] = [u.depth, u.seHidden, 1, 1]
        }
        return e
    }

    /// Every tensor of the state dict with its shape, official key names.
    public func expectedShapes() -> [String: [Int]] {
        var e = trunkShapes()
        func bn(_ p: String, _ c: Int) {
            for k in ["weight", "bias", "running_mean", "running_var"] { e["\(p).\(k)"] = [c] }
        }
        let top = stageWidths[3]
        e["latent_avg"] = [styleCount, styleWidth]
        if head == .wPlus {
            // output_layer_2 = Sequential(BatchNorm2d, AdaptiveAvgPool2d, Flatten, Linear); Linear's width is w.
            bn("output_layer_2.0", top)
            e["output_layer_2.3.weight"] = [styleWidth, top * Self.wPlusPoolSide * Self.wPlusPoolSide]
            e["output_layer_2.3.bias"] = [styleWidth]
            e["linear.weight"] = [styleCount * styleWidth, styleWidth]
            e["linear.bias"] = [styleCount * styleWidth]
            return e
        }
        for i in 0..<styleCount {
            for j in 0..<Self.convCount(ofStyle: i) {
                e["styles.\(i).convs.\(2 * j).weight"] = [styleWidth, j == 0 ? top : styleWidth, 3, 3]
                e["styles.\(i).convs.\(2 * j).bias"] = [styleWidth]
            }
            e["styles.\(i).linear.weight"] = [styleWidth, styleWidth]
            e["styles.\(i).linear.bias"] = [styleWidth]
        }
        e["latlayer1.weight"] = [top, tapChannels[1], 1, 1]
        e["latlayer1.bias"] = [top]
        e["latlayer2.weight"] = [top, tapChannels[0], 1, 1]
        e["latlayer2.bias"] = [top]
        return e
    }

    /// Every missing, unexpected or mis-shaped tensor, sorted by name.
    public func check(shapes: [String: [Int]]) -> [WeightProblem] {
        Self.problems(expected: expectedShapes(), found: shapes)
    }

    /// Every tensor of `expected` missing from or mis-shaped in `found`, and every extra one, sorted by name.
    static func problems(expected: [String: [Int]], found shapes: [String: [Int]]) -> [WeightProblem] {
        var problems: [(String, WeightProblem)] = []
        for (name, shape) in expected {
            guard let found = shapes[name] else { problems.append((name, .missing(name: name, expected: shape))); continue }
            if found != shape { problems.append((name, .misshaped(name: name, expected: shape, found: found))) }
        }
        for (name, shape) in shapes where expected[name] == nil {
            problems.append((name, .unexpected(name: name, shape: shape)))
        }
        return problems.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Reads the layout off a state dict's shapes (official names). Throws only when a width has no
    /// tensor to come from; everything else is left to `check(shapes:)`, which reports all problems at once.
    public static func infer(from shapes: [String: [Int]], file: String) throws -> EncoderArchitecture {
        let trunk = try inferTrunk(from: shapes, file: file)
        let (inputChannels, stem, widths, hidden) = (trunk.inputChannels, trunk.stemWidth, trunk.stageWidths, trunk.seHidden)
        func dim(_ candidates: [(String, Int)], _ what: String) throws -> Int {
            try Self.dim(candidates, what, shapes: shapes, file: file)
        }
        if let pooled = shapes["output_layer_2.3.weight"], pooled.count == 2 {
            // WPlusEncoder: Linear's output is w wide (512: x.view(-1, n_styles, 512)), EqualLinear's styles × w.
            let w = pooled[0]
            guard w > 0, let out = shapes["linear.weight"], out.count == 2, out[0] % w == 0, out[0] > 0 else {
                throw EncoderLoadError.cannotInferArchitecture(
                    file: file, reason: "a WPlusEncoder head whose 'linear.weight' is not (styles × \(w), \(w))")
            }
            return EncoderArchitecture(inputChannels: inputChannels, stemWidth: stem, stageWidths: widths, seHidden: hidden,
                                       styleCount: out[0] / w, styleWidth: w, head: .wPlus)
        }
        var styleCount = 0
        for name in shapes.keys where name.hasPrefix("styles.") {
            let rest = name.dropFirst("styles.".count)
            if let i = Int(rest.prefix { $0.isNumber }) { styleCount = Swift.max(styleCount, i + 1) }
        }
        if styleCount == 0, let avg = shapes["latent_avg"], avg.count == 2 { styleCount = avg[0] }
        guard styleCount > 0 else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "no 'styles.N.…' tensors, so the style count is unknown")
        }
        let styleWidth = try dim([("styles.0.linear.weight", 0), ("styles.0.convs.0.weight", 0), ("latent_avg", 1)], "w's size")
        return EncoderArchitecture(inputChannels: inputChannels, stemWidth: stem, stageWidths: widths, seHidden: hidden,
                                   styleCount: styleCount, styleWidth: styleWidth)
    }

    /// The first axis among `candidates` that exists, else an error naming them.
    static func dim(_ candidates: [(String, Int)], _ what: String, shapes: [String: [Int]], file: String) throws -> Int {
        for (name, axis) in candidates {
            if let s = shapes[name], s.count > axis { return s[axis] }
        }
        throw EncoderLoadError.cannotInferArchitecture(
            file: file, reason: "\(what) comes from \(candidates.map { "'\($0.0)'" }.joined(separator: " or ")), none present")
    }

    /// The IR-SE50 trunk's widths read off `input_layer.*` / `body.*` shapes (as `infer`, for TriPlaneNet's
    /// tri-plane encoder, which has the same trunk); styleCount and styleWidth are 0.
    public static func inferTrunk(from shapes: [String: [Int]], file: String) throws -> EncoderArchitecture {
        func dim(_ candidates: [(String, Int)], _ what: String) throws -> Int {
            try Self.dim(candidates, what, shapes: shapes, file: file)
        }
        let inputChannels = try dim([("input_layer.0.weight", 1)], "the input channel count")
        let stem = try dim([("input_layer.0.weight", 0), ("input_layer.2.weight", 0), ("body.0.res_layer.0.weight", 0)],
                           "the input layer's width")
        var widths: [Int] = []
        var first = 0
        for n in unitsPerStage {
            let p = "body.\(first)"
            widths.append(try dim([("\(p).res_layer.1.weight", 0), ("\(p).res_layer.3.weight", 0), ("\(p).res_layer.2.weight", 0)],
                                  "stage \(widths.count + 1)'s width"))
            first += n
        }
        var hidden: [Int] = []
        var unit = 0
        for (s, n) in unitsPerStage.enumerated() {
            for _ in 0..<n {
                let p = "body.\(unit).res_layer.5"
                hidden.append(shapes["\(p).fc1.weight"].map { $0[0] } ?? shapes["\(p).fc2.weight"].flatMap { $0.count > 1 ? $0[1] : nil }
                              ?? Swift.max(1, widths[s] / 16))
                unit += 1
            }
        }
        // A width of 0 passes a shape check (a [0, …] tensor has the shape it should) but leaves nothing to compute.
        guard inputChannels > 0, stem > 0, widths.allSatisfy({ $0 > 0 }), hidden.allSatisfy({ $0 > 0 }) else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "a layer of width 0 (input \(inputChannels), stem \(stem), stages \(widths))")
        }
        return EncoderArchitecture(inputChannels: inputChannels, stemWidth: stem, stageWidths: widths, seHidden: hidden,
                                   styleCount: 0, styleWidth: 0)
    }

    /// Floating-point operations (2 per multiply-add) of one forward pass on a 256² image: every conv,
    /// the SE 1×1 convs and the linears; elementwise work is not counted.
    public var flopsPerImage: Double {
        var macs: Double = 0
        var side = Self.inputSize
        func conv(_ o: Int, _ i: Int, _ k: Int, _ outSide: Int) -> Double { Double(o * i * k * k) * Double(outSide * outSide) }
        macs += conv(stemWidth, inputChannels, 3, side)
        var sides: [Int] = []
        for u in units {
            let outSide = (side - 1) / u.stride + 1
            macs += conv(u.depth, u.inChannels, 3, side)          // res_layer.1 at the input side
            macs += conv(u.depth, u.depth, 3, outSide)            // res_layer.3, strided
            macs += Double(2 * u.depth * u.seHidden)              // SE fc1 + fc2
            if !u.poolShortcut { macs += conv(u.depth, u.inChannels, 1, outSide) }
            side = outSide
            sides.append(side)
        }
        let tapSides = Self.tapUnits.map { sides[$0] }
        let top = stageWidths[3]
        if head == .wPlus {
            let pooled = top * Self.wPlusPoolSide * Self.wPlusPoolSide
            return 2 * (macs + Double(pooled * styleWidth) + Double(styleWidth * styleCount * styleWidth))
        }
        macs += conv(top, tapChannels[1], 1, tapSides[1]) + conv(top, tapChannels[0], 1, tapSides[0])
        for i in 0..<styleCount {
            var s = tapSides[2 - Self.group(ofStyle: i)]
            for j in 0..<Self.convCount(ofStyle: i) {
                s = (s - 1) / 2 + 1
                macs += conv(styleWidth, j == 0 ? top : styleWidth, 3, s)
            }
            macs += Double(styleWidth * styleWidth)
        }
        return 2 * macs
    }
}
