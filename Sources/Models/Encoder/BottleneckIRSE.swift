// Port of bottleneck_IR_SE and SEModule from omertov/encoder4editing models/encoders/helpers.py
// (the ArcFace IR-SE unit): out = res_layer(x) + shortcut_layer(x), with
//   res_layer = BatchNorm(in) → conv3×3(in→depth, stride 1) → PReLU(depth) → conv3×3(depth→depth, stride s)
//               → BatchNorm(depth) → SEModule(depth)
//   shortcut  = MaxPool2d(1, s) when in == depth, else conv1×1(in→depth, stride s) → BatchNorm(depth).
// Convs have no bias; BatchNorm runs in eval mode.
import Tensors

struct BottleneckIRSE: Sendable {
    let unit: EncoderArchitecture.Unit
    /// shortcut_layer.0.weight [depth, in, 1, 1] (nil for the MaxPool2d(1, s) shortcut).
    let shortcutConv: [Float]?
    /// shortcut_layer.1 (BatchNorm2d(depth)).
    let shortcutNorm: BatchNorm2d?
    /// res_layer.0 (BatchNorm2d(in)).
    let norm1: BatchNorm2d
    /// res_layer.1.weight [depth, in, 3, 3], prepared for the unit's input size.
    let conv1: SameConv3x3
    /// res_layer.2.weight [depth] (PReLU slopes).
    let prelu: [Float]
    /// res_layer.3.weight [depth, depth, 3, 3], kept as it is for stride-2 units (nil for stride 1) …
    let conv2: [Float]?
    /// … and prepared once for stride-1 units (Winograd-transformed like conv1; nil for stride 2).
    let conv2Same: SameConv3x3?
    /// res_layer.4 (BatchNorm2d(depth)).
    let norm2: BatchNorm2d
    /// res_layer.5.fc1.weight [hidden, depth, 1, 1].
    let seFC1: [Float]
    /// res_layer.5.fc2.weight [depth, hidden, 1, 1].
    let seFC2: [Float]
    let precision: Precision

    /// - side: the height and width of the unit's input (256 for unit 0, then 128, 64, 32, 16 as the stages stride).
    init(_ w: EncoderWeights, prefix p: String, unit: EncoderArchitecture.Unit, side: Int, precision: Precision) {
        self.init(tensor: { w[$0] }, prefix: p, unit: unit, side: side, precision: precision)
    }

    /// - tensor: the checked weights by official name (an encoder's, or TriPlaneNet's tri-plane encoder's).
    init(tensor w: (String) -> Tensor, prefix p: String, unit: EncoderArchitecture.Unit, side: Int, precision: Precision) {
        self.unit = unit
        self.precision = precision
        if unit.poolShortcut {
            shortcutConv = nil
            shortcutNorm = nil
        } else {
            shortcutConv = w("\(p).shortcut_layer.0.weight").data
            shortcutNorm = Self.batchNorm(w, "\(p).shortcut_layer.1")
        }
        norm1 = Self.batchNorm(w, "\(p).res_layer.0")
        conv1 = SameConv3x3(weight: w("\(p).res_layer.1.weight").data, outChannels: unit.depth,
                            inChannels: unit.inChannels, side: side, precision: precision)
        prelu = w("\(p).res_layer.2.weight").data
        let w2 = w("\(p).res_layer.3.weight").data
        conv2 = unit.stride == 1 ? nil : w2
        conv2Same = unit.stride == 1
            ? SameConv3x3(weight: w2, outChannels: unit.depth, inChannels: unit.depth, side: side, precision: precision)
            : nil
        norm2 = Self.batchNorm(w, "\(p).res_layer.4")
        seFC1 = w("\(p).res_layer.5.fc1.weight").data
        seFC2 = w("\(p).res_layer.5.fc2.weight").data
    }

    static func batchNorm(_ w: EncoderWeights, _ p: String) -> BatchNorm2d {
        batchNorm({ w[$0] }, p)
    }

    static func batchNorm(_ w: (String) -> Tensor, _ p: String) -> BatchNorm2d {
        BatchNorm2d(weight: w("\(p).weight").data, bias: w("\(p).bias").data,
                    runningMean: w("\(p).running_mean").data, runningVar: w("\(p).running_var").data,
                    eps: EncoderArchitecture.batchNormEpsilon)
    }

    /// [in, h, w] → [depth, ⌊(h−1)/s⌋+1, ⌊(w−1)/s⌋+1].
    func callAsFunction(_ x: Tensor) -> Tensor {
        let inC = unit.inChannels, d = unit.depth, s = unit.stride
        let h = x.shape[1], wd = x.shape[2]
        let ho = (h - 1) / s + 1, wo = (wd - 1) / s + 1
        var normed = Tensor(zeros: [inC, h, wd])
        var mid = Tensor(zeros: [d, h, wd])
        var res = Tensor(zeros: [d, ho, wo])
        var out = Tensor(zeros: [d, ho, wo])
        x.data.withUnsafeBufferPointer { xp in
            let xin = xp.baseAddress!
            normed.data.withUnsafeMutableBufferPointer { np in
                norm1.apply(xin, count: h * wd, into: np.baseAddress!)
                mid.data.withUnsafeMutableBufferPointer { mp in
                    conv1(np.baseAddress!, height: h, width: wd, output: mp.baseAddress!)
                    prelu.withUnsafeBufferPointer {
                        PReLU.apply(mp.baseAddress!, channels: d, count: h * wd, slopes: $0.baseAddress!)
                    }
                    res.data.withUnsafeMutableBufferPointer { rp in
                        if let conv2Same {
                            conv2Same(mp.baseAddress!, height: h, width: wd, output: rp.baseAddress!)
                        } else if let conv2 {
                            conv2.withUnsafeBufferPointer { w2 in
                                Convolution.conv2d(input: mp.baseAddress!, inChannels: d, height: h, width: wd,
                                                   weight: w2.baseAddress!, outChannels: d, kernel: 3, stride: s, padding: 1,
                                                   output: rp.baseAddress!, precision: precision)
                            }
                        }
                    }
                }
            }
            res.data.withUnsafeMutableBufferPointer { rp in
                norm2.apply(rp.baseAddress!, count: ho * wo)
                let gates = seFC1.withUnsafeBufferPointer { f1 in
                    seFC2.withUnsafeBufferPointer { f2 in
                        SqueezeExcitation.gates(rp.baseAddress!, channels: d, count: ho * wo, hidden: unit.seHidden,
                                                fc1: f1.baseAddress!, fc2: f2.baseAddress!)
                    }
                }
                out.data.withUnsafeMutableBufferPointer { op in
                    let o = op.baseAddress!
                    if let shortcutConv, let shortcutNorm {
                        shortcutConv.withUnsafeBufferPointer { ws in
                            Convolution.conv2d(input: xin, inChannels: inC, height: h, width: wd, weight: ws.baseAddress!,
                                               outChannels: d, kernel: 1, stride: s, padding: 0, output: o, precision: precision)
                        }
                        shortcutNorm.apply(o, count: ho * wo)
                    } else {
                        Pooling.subsample(input: xin, channels: inC, height: h, width: wd, stride: s, output: o)
                    }
                    gates.withUnsafeBufferPointer { g in
                        SqueezeExcitation.scaleChannels(rp.baseAddress!, channels: d, count: ho * wo, scale: g.baseAddress!,
                                                        adding: o, into: o)
                    }
                }
            }
        }
        return out
    }
}
