// Port of the Swin Transformer V2 GOAE encodes with (jiangyzy/GOAE goae/models/swin_transformer.py, from
// microsoft/Swin-Transformer swin_transformer_v2.py), eval mode, batch 1:
//   patch_embed: conv P×P stride P → tokens → LayerNorm
//   4 stages of blocks, each: x = x + norm1(W-MSA(x)); x = x + norm2(MLP(x))   (V2's residual post-norm)
//     W-MSA: windows of w×w tokens (odd blocks shifted by w/2, with the −100 mask between regions), cosine
//     attention q̂·k̂ᵀ · exp(min(logit_scale, log 100)), plus 16·sigmoid(cpb_mlp(relative_coords_table)) as the
//     position bias; qkv has q_bias and v_bias (no k bias); GELU MLP.
//     A stage whose side is not above the window uses one window of the whole map, unshifted.
//   PatchMerging between stages: [x(0,0) ‖ x(1,0) ‖ x(0,1) ‖ x(1,1)] → reduction (no bias) → LayerNorm.
//   norm after the last stage.
// GOAE reads the tokens before each stage (x_fine, x_mid, x_coarse, x_query) and the normed output (x_base).
import Foundation
import Tensors

public struct SwinV2Architecture: Sendable, Equatable {
    public var inputSide: Int
    public var patchSize: Int
    public var embedWidth: Int
    /// Blocks per stage (2 / 2 / 18 / 2 in GOAE's configs/swinv2.yaml).
    public var depths: [Int]
    /// Heads per stage (4 / 8 / 16 / 32).
    public var heads: [Int]
    /// The window each block attends in (16, or the whole map when the stage is not larger).
    public var windows: [Int]
    /// cpb_mlp's hidden width (512, fixed in WindowAttention).
    public var positionHidden: Int
    /// MLP hidden width over block width (4).
    public var mlpRatio: Int

    public var stageCount: Int { depths.count }
    public func width(ofStage i: Int) -> Int { embedWidth << i }
    public func side(ofStage i: Int) -> Int { (inputSide / patchSize) >> i }
    /// Tokens of the last stage.
    public var lastTokens: Int { side(ofStage: stageCount - 1) * side(ofStage: stageCount - 1) }

    /// Every tensor of the state dict under `prefix` (GOAE's is `swin_model.`). The buffers relative_position_index
    /// and attn_mask are derived from the layout, and checked by value when a file holds them.
    public func expectedShapes(prefix p: String) -> [String: [Int]] {
        var e: [String: [Int]] = [:]
        let E = embedWidth
        e["\(p)patch_embed.proj.weight"] = [E, 3, patchSize, patchSize]
        e["\(p)patch_embed.proj.bias"] = [E]
        e["\(p)patch_embed.norm.weight"] = [E]
        e["\(p)patch_embed.norm.bias"] = [E]
        var block = 0
        for s in 0..<stageCount {
            let C = width(ofStage: s), h = heads[s]
            for j in 0..<depths[s] {
                let b = "\(p)layers.\(s).blocks.\(j)."
                let w = windows[block], t = 2 * w - 1
                block += 1
                for n in ["norm1", "norm2"] { e[b + n + ".weight"] = [C]; e[b + n + ".bias"] = [C] }
                e[b + "attn.logit_scale"] = [h, 1, 1]
                e[b + "attn.q_bias"] = [C]
                e[b + "attn.v_bias"] = [C]
                e[b + "attn.relative_coords_table"] = [1, t, t, 2]
                e[b + "attn.cpb_mlp.0.weight"] = [positionHidden, 2]
                e[b + "attn.cpb_mlp.0.bias"] = [positionHidden]
                e[b + "attn.cpb_mlp.2.weight"] = [h, positionHidden]
                e[b + "attn.qkv.weight"] = [3 * C, C]
                e[b + "attn.proj.weight"] = [C, C]
                e[b + "attn.proj.bias"] = [C]
                e[b + "mlp.fc1.weight"] = [mlpRatio * C, C]
                e[b + "mlp.fc1.bias"] = [mlpRatio * C]
                e[b + "mlp.fc2.weight"] = [C, mlpRatio * C]
                e[b + "mlp.fc2.bias"] = [C]
            }
            if s < stageCount - 1 {
                e["\(p)layers.\(s).downsample.reduction.weight"] = [2 * C, 4 * C]
                e["\(p)layers.\(s).downsample.norm.weight"] = [2 * C]
                e["\(p)layers.\(s).downsample.norm.bias"] = [2 * C]
            }
        }
        let last = width(ofStage: stageCount - 1)
        e["\(p)norm.weight"] = [last]
        e["\(p)norm.bias"] = [last]
        return e
    }

    /// The derived buffers a state dict may hold: relative_position_index [N, N] per block, attn_mask [nW, N, N]
    /// per shifted block.
    public func bufferShapes(prefix p: String) -> [String: [Int]] {
        var e: [String: [Int]] = [:]
        var block = 0
        for s in 0..<stageCount {
            for j in 0..<depths[s] {
                let w = windows[block], n = w * w, b = "\(p)layers.\(s).blocks.\(j)."
                block += 1
                e[b + "attn.relative_position_index"] = [n, n]
                if shift(stage: s, block: j) > 0 {
                    let per = side(ofStage: s) / w
                    e[b + "attn_mask"] = [per * per, n, n]
                }
            }
        }
        return e
    }

    /// WindowAttention's relative_coords_table [(2w − 1)², 2]: each offset (Δy, Δx) divided by (pretrained − 1) (or
    /// w − 1 without a pretrained window), times 8, then sign · log2(|x| + 1) / log2(8).
    public static func relativeCoordsTable(window w: Int, pretrained: Int) -> [Float] {
        let side = 2 * w - 1, norm = Float(pretrained > 0 ? pretrained - 1 : w - 1)
        var table = [Float](repeating: 0, count: side * side * 2)
        for i in 0..<side {
            for k in 0..<side {
                for (axis, d) in [Float(i - (w - 1)), Float(k - (w - 1))].enumerated() {
                    let x = d / norm * 8
                    table[(i * side + k) * 2 + axis] = (x < 0 ? -1 : (x > 0 ? 1 : 0)) * log2f(abs(x) + 1) / 3
                }
            }
        }
        return table
    }

    /// SwinTransformerBlock's shift: w/2 on odd blocks of a stage larger than its window.
    public func shift(stage s: Int, block j: Int) -> Int {
        let w = windows[depths[..<s].reduce(0, +) + j]
        return j % 2 == 1 && side(ofStage: s) > w ? w / 2 : 0
    }

    /// Bounds on what a file may ask for, far above the released network (window 16, 32 heads, 256² input) and
    /// below what would exhaust memory: a window's position bias is heads · window⁴ floats.
    public static let maxWindow = 32, maxHeads = 64, maxInputSide = 1024

    /// Reads the layout off the shapes under `prefix`; the input side is given (it is not in the weights).
    public static func infer(from shapes: [String: [Int]], prefix p: String, inputSide: Int, file: String) throws -> SwinV2Architecture {
        func fail(_ reason: String) -> EncoderLoadError { .cannotInferArchitecture(file: file, reason: reason) }
        guard let proj = shapes["\(p)patch_embed.proj.weight"], proj.count == 4, proj[0] > 0, proj[2] > 0, proj[2] == proj[3] else {
            throw fail("a Swin-V2 has '\(p)patch_embed.proj.weight' [embed, 3, P, P]")
        }
        var depths: [Int] = [], heads: [Int] = [], windows: [Int] = []
        var hidden = 0
        while shapes["\(p)layers.\(depths.count).blocks.0.norm1.weight"] != nil {
            let s = depths.count
            var n = 0
            while let ls = shapes["\(p)layers.\(s).blocks.\(n).attn.logit_scale"] {
                guard let table = shapes["\(p)layers.\(s).blocks.\(n).attn.relative_coords_table"], table.count == 4,
                      table[1] % 2 == 1, table[1] > 0, let cpb = shapes["\(p)layers.\(s).blocks.\(n).attn.cpb_mlp.0.weight"],
                      cpb.count == 2, cpb[0] > 0, !ls.isEmpty, ls[0] > 0 else {
                    throw fail("block \(s).\(n) lacks its attention's logit_scale, relative_coords_table or cpb_mlp")
                }
                if n == 0 { heads.append(ls[0]) }
                windows.append((table[1] + 1) / 2)
                hidden = cpb[0]
                n += 1
            }
            guard n > 0 else { throw fail("stage \(s) has no attention blocks") }
            depths.append(n)
        }
        guard depths.count >= 2, depths.count <= 6 else { throw fail("\(depths.count) stages (a Swin-V2 has 2 to 6)") }
        guard inputSide <= maxInputSide else { throw fail("a \(inputSide)² input (at most \(maxInputSide)² is read)") }
        guard let w = windows.max(), w <= maxWindow else { throw fail("a window of \(windows.max() ?? 0) tokens (at most \(maxWindow) is read)") }
        guard let h = heads.max(), h <= maxHeads else { throw fail("\(heads.max() ?? 0) heads (at most \(maxHeads) are read)") }
        guard hidden <= 4096, depths.allSatisfy({ $0 <= 64 }) else { throw fail("a position-bias width of \(hidden) or a stage of more than 64 blocks") }
        guard let fc1 = shapes["\(p)layers.0.blocks.0.mlp.fc1.weight"], fc1.count == 2, fc1[1] > 0, fc1[0] % fc1[1] == 0 else {
            throw fail("'\(p)layers.0.blocks.0.mlp.fc1.weight' is missing or not a multiple of the width")
        }
        let a = SwinV2Architecture(inputSide: inputSide, patchSize: proj[2], embedWidth: proj[0], depths: depths, heads: heads,
                                   windows: windows, positionHidden: hidden, mlpRatio: fc1[0] / fc1[1])
        for s in 0..<a.stageCount {
            let side = a.side(ofStage: s)
            guard side > 0, side << s == inputSide / a.patchSize, inputSide % a.patchSize == 0 else {
                throw fail("a \(inputSide)² input does not divide into \(a.stageCount) stages of patches of \(a.patchSize)")
            }
            guard a.width(ofStage: s) % a.heads[s] == 0 else { throw fail("stage \(s): width \(a.width(ofStage: s)) is not divisible by \(a.heads[s]) heads") }
            for j in 0..<a.depths[s] {
                let w = a.windows[a.depths[..<s].reduce(0, +) + j]
                guard side % w == 0, w <= side else { throw fail("stage \(s) (\(side)²) does not tile into windows of \(w)") }
            }
        }
        return a
    }
}

struct SwinV2: Sendable {
    /// torch.log(torch.tensor(1. / 0.01)): WindowAttention's clamp on logit_scale.
    static let maxLogitScale: Float = logf(100)
    /// The mask between regions of a shifted window (SwinTransformerBlock.attn_mask).
    static let regionMask: Float = -100

    struct Block: Sendable {
        let width: Int
        let heads: Int
        let window: Int
        let shift: Int
        let side: Int
        let norm1: LayerNormLayer
        let norm2: LayerNormLayer
        /// qkv.weight with the bias [q_bias ‖ 0 ‖ v_bias].
        let qkv: DenseLayer
        let proj: DenseLayer
        let fc1: DenseLayer
        let fc2: DenseLayer
        /// exp(min(logit_scale, log 100)) per head.
        let scales: [Float]
        /// 16·sigmoid(cpb_mlp(table))[index] per head: [heads, N, N].
        let positionBias: [Float]
        /// Per window [nW, N, N] when shifted.
        let mask: [Float]?
    }

    struct Merge: Sendable {
        let reduction: DenseLayer
        let norm: LayerNormLayer
    }

    let architecture: SwinV2Architecture
    let patch: DenseLayer
    let patchNorm: LayerNormLayer
    let stages: [[Block]]
    let merges: [Merge]
    let norm: LayerNormLayer

    /// The stage inputs and the normed output, as token rows [tokens, width].
    struct Features: Sendable {
        var stageInputs: [[Float]]
        var output: [Float]
    }

    /// - tensors: the checked weights by name under `prefix`; derived buffers present are compared with the
    ///   layout's and refused when they differ.
    init(architecture a: SwinV2Architecture, prefix p: String, file: String, tensor t: (String) -> Tensor,
         buffer: (String) -> Tensor?) throws {
        architecture = a
        let pw = t("\(p)patch_embed.proj.weight")
        patch = DenseLayer(weight: pw.data, bias: t("\(p)patch_embed.proj.bias").data, outFeatures: pw.shape[0],
                           inFeatures: pw.count / pw.shape[0])
        patchNorm = LayerNormLayer(t, "\(p)patch_embed.norm")
        var stages: [[Block]] = [], merges: [Merge] = []
        var index = 0
        for s in 0..<a.stageCount {
            var blocks: [Block] = []
            for j in 0..<a.depths[s] {
                let b = "\(p)layers.\(s).blocks.\(j)."
                let C = a.width(ofStage: s), h = a.heads[s], w = a.windows[index], side = a.side(ofStage: s)
                index += 1
                let shift = a.shift(stage: s, block: j)
                let relative = Self.relativePositionIndex(window: w)
                if let found = buffer(b + "attn.relative_position_index"), found.data != relative.map(Float.init) {
                    throw EncoderLoadError.badManifest(file: file, reason: "\(b)attn.relative_position_index differs from a \(w)×\(w) window's")
                }
                let mask = shift > 0 ? Self.shiftMask(side: side, window: w, shift: shift) : nil
                if let mask, let found = buffer(b + "attn_mask"), found.data != mask {
                    throw EncoderLoadError.badManifest(file: file, reason: "\(b)attn_mask differs from the shifted windows' mask")
                }
                let qb = t(b + "attn.q_bias").data, vb = t(b + "attn.v_bias").data
                let qkvW = t(b + "attn.qkv.weight")
                let table = t(b + "attn.relative_coords_table")
                let cpb1 = DenseLayer(t, b + "attn.cpb_mlp.0"), cpb2 = DenseLayer(t, b + "attn.cpb_mlp.2", bias: false)
                var cpb = cpb1(table.data, rows: table.count / 2)
                TokenMath.relu(&cpb)
                let biasTable = cpb2(cpb, rows: table.count / 2)  // [(2w−1)², h]
                let n = w * w
                var bias = [Float](repeating: 0, count: h * n * n)
                for i in 0..<(n * n) {
                    let r = relative[i]
                    for head in 0..<h { bias[head * n * n + i] = 16 * Pointwise.sigmoid(biasTable[r * h + head]) }
                }
                blocks.append(Block(
                    width: C, heads: h, window: w, shift: shift, side: side,
                    norm1: LayerNormLayer(t, b + "norm1"), norm2: LayerNormLayer(t, b + "norm2"),
                    qkv: DenseLayer(weight: qkvW.data, bias: qb + [Float](repeating: 0, count: C) + vb, outFeatures: 3 * C, inFeatures: C),
                    proj: DenseLayer(t, b + "attn.proj"), fc1: DenseLayer(t, b + "mlp.fc1"), fc2: DenseLayer(t, b + "mlp.fc2"),
                    scales: t(b + "attn.logit_scale").data.map { expf(min($0, Self.maxLogitScale)) },
                    positionBias: bias, mask: mask))
            }
            stages.append(blocks)
            if s < a.stageCount - 1 {
                merges.append(Merge(reduction: DenseLayer(t, "\(p)layers.\(s).downsample.reduction", bias: false),
                                    norm: LayerNormLayer(t, "\(p)layers.\(s).downsample.norm")))
            }
        }
        self.stages = stages
        self.merges = merges
        norm = LayerNormLayer(t, "\(p)norm")
    }

    /// WindowAttention.relative_position_index: (Δy + w − 1)·(2w − 1) + (Δx + w − 1) for token pairs of a window.
    static func relativePositionIndex(window w: Int) -> [Int] {
        let n = w * w
        var out = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                out[i * n + j] = (i / w - j / w + w - 1) * (2 * w - 1) + (i % w - j % w + w - 1)
            }
        }
        return out
    }

    /// SwinTransformerBlock.attn_mask: the map cut at −w and −shift on both axes into 9 regions; two tokens of a
    /// window in different regions get −100.
    static func shiftMask(side: Int, window w: Int, shift s: Int) -> [Float] {
        func band(_ y: Int) -> Int { y < side - w ? 0 : (y < side - s ? 1 : 2) }
        let per = side / w, n = w * w
        var out = [Float](repeating: 0, count: per * per * n * n)
        for wy in 0..<per {
            for wx in 0..<per {
                let base = (wy * per + wx) * n * n
                for i in 0..<n {
                    let ri = 3 * band(wy * w + i / w) + band(wx * w + i % w)
                    for j in 0..<n {
                        let rj = 3 * band(wy * w + j / w) + band(wx * w + j % w)
                        if ri != rj { out[base + i * n + j] = regionMask }
                    }
                }
            }
        }
        return out
    }

    /// image [3, S, S] (S the architecture's input side) → features.
    func callAsFunction(_ image: Tensor) -> Features {
        let a = architecture, P = a.patchSize, S = a.inputSide, side = S / P
        // Patches as rows (c, ky, kx), the conv's weight order.
        var patches = [Float](repeating: 0, count: side * side * 3 * P * P)
        for py in 0..<side {
            for px in 0..<side {
                var k = (py * side + px) * 3 * P * P
                for c in 0..<3 {
                    for ky in 0..<P {
                        let row = (c * S + py * P + ky) * S + px * P
                        for kx in 0..<P { patches[k] = image.data[row + kx]; k += 1 }
                    }
                }
            }
        }
        var x = patch(patches, rows: side * side)
        patchNorm.apply(&x)
        var inputs: [[Float]] = []
        for s in 0..<a.stageCount {
            inputs.append(x)
            for block in stages[s] { x = forward(block, x) }
            if s < merges.count { x = merge(merges[s], x, side: a.side(ofStage: s), width: a.width(ofStage: s)) }
        }
        norm.apply(&x)
        return Features(stageInputs: inputs, output: x)
    }

    func forward(_ b: Block, _ x: [Float]) -> [Float] {
        let C = b.width, H = b.side, w = b.window, n = w * w, per = H / w, nW = per * per
        let h = b.heads, dh = C / h
        // Shifted windows: window row k holds token ((wy·w + iy + shift) mod H, (wx·w + ix + shift) mod H).
        var source = [Int](repeating: 0, count: H * H)
        for wy in 0..<per {
            for wx in 0..<per {
                for i in 0..<n {
                    let y = (wy * w + i / w + b.shift) % H, xx = (wx * w + i % w + b.shift) % H
                    source[(wy * per + wx) * n + i] = y * H + xx
                }
            }
        }
        var windows = [Float](repeating: 0, count: H * H * C)
        for r in 0..<(H * H) {
            let src = source[r] * C
            for c in 0..<C { windows[r * C + c] = x[src + c] }
        }
        var qkv = b.qkv(windows, rows: H * H)
        // Cosine attention: unit q and k per head (F.normalize, eps 1e-12).
        qkv.withUnsafeMutableBufferPointer { qp in
            let p = qp.baseAddress!
            Parallel.forChunks(H * H, grain: 64) { s, e in
                for r in s..<e {
                    for part in 0..<2 {
                        for head in 0..<h {
                            let v = p + r * 3 * C + part * C + head * dh
                            var sum: Float = 0
                            for d in 0..<dh { sum += v[d] * v[d] }
                            let inv = 1 / max(sum.squareRoot(), 1e-12)
                            for d in 0..<dh { v[d] *= inv }
                        }
                    }
                }
            }
        }
        var attended = [Float](repeating: 0, count: H * H * C)
        var scores = [Float](repeating: 0, count: n * n)
        qkv.withUnsafeBufferPointer { qp in
        scores.withUnsafeMutableBufferPointer { sp in
        attended.withUnsafeMutableBufferPointer { ap in
            let q = qp.baseAddress!, sc = sp.baseAddress!
            for win in 0..<nW {
                let rows = q + win * n * 3 * C
                for head in 0..<h {
                    Gemm.sgemm(transB: true, m: n, n: n, k: dh, alpha: b.scales[head], a: rows + head * dh, lda: 3 * C,
                               b: rows + C + head * dh, ldb: 3 * C, c: sc, ldc: n)
                    let bias = head * n * n
                    for i in 0..<(n * n) { sc[i] += b.positionBias[bias + i] }
                    if let mask = b.mask {
                        let m0 = win * n * n
                        for i in 0..<(n * n) { sc[i] += mask[m0 + i] }
                    }
                    TokenMath.softmaxRows(sc, rows: n, cols: n, ld: n)
                    Gemm.sgemm(m: n, n: dh, k: n, a: sc, lda: n, b: rows + 2 * C + head * dh, ldb: 3 * C,
                               c: ap.baseAddress! + win * n * C + head * dh, ldc: C)
                }
            }
        }}}
        var projected = b.proj(attended, rows: H * H)
        b.norm1.apply(&projected)
        var y = x
        for r in 0..<(H * H) {
            let dst = source[r] * C
            for c in 0..<C { y[dst + c] += projected[r * C + c] }
        }
        var hidden = b.fc1(y, rows: H * H)
        TokenMath.gelu(&hidden)
        var m = b.fc2(hidden, rows: H * H)
        b.norm2.apply(&m)
        TokenMath.add(&y, m)
        return y
    }

    func merge(_ m: Merge, _ x: [Float], side H: Int, width C: Int) -> [Float] {
        let h = H / 2
        var cat = [Float](repeating: 0, count: h * h * 4 * C)
        for y in 0..<h {
            for xx in 0..<h {
                let dst = (y * h + xx) * 4 * C
                for (k, (dy, dx)) in [(0, 0), (1, 0), (0, 1), (1, 1)].enumerated() {
                    let src = ((2 * y + dy) * H + 2 * xx + dx) * C
                    for c in 0..<C { cat[dst + k * C + c] = x[src + c] }
                }
            }
        }
        var out = m.reduction(cat, rows: h * h)
        m.norm.apply(&out)
        return out
    }
}
