// How each encoder's own data pipeline turns the aligned face into its input. The released encoders were trained on
// EG3D's FFHQ crops (512², aligned as EG3D's preprocessing aligns them) resized by their loaders:
//   e4e / pSp (and PREIM3D):  transforms.Resize((256, 256)) on PIL images → PIL bilinear, antialiased
//   TriPlaneNet:              ToTensor, Normalize, then Resize(256) on tensors with torchvision before 0.17 →
//                             bilinear without antialiasing
//   GOAE:                     PIL Image.resize((256, 256)) (Pillow's default, bicubic) for the encoder; AFA reads the
//                             512² crop itself (training/dataset_face.py use_512)
// Inputs are then scaled to [−1, 1] (x / 127.5 − 1, the same as Normalize(0.5, 0.5) after ToTensor).
import Foundation
import Tensors

public enum EncoderPreprocessing: String, Sendable, CaseIterable, Codable {
    /// The aligned crop sampled straight at the input side (what the demo encoder was fitted on; bundles imported
    /// before model.json recorded a preprocessing).
    case direct
    case pilBilinear = "pil-bilinear"
    case pilBicubic = "pil-bicubic"
    case bilinearNoAntialias = "bilinear-no-antialias"

    /// The aligned image the loaders resize from (EG3D's FFHQ crops).
    public static let alignedSide = 512

    /// The side to crop the aligned face at, for an input of `side`.
    public func cropSide(for side: Int) -> Int { self == .direct ? side : max(side, Self.alignedSide) }

    /// An aligned RGB8 crop (interleaved, `from`² pixels) → [3, side, side] in [−1, 1].
    public func input(_ pixels: [UInt8], from: Int, side: Int) -> Tensor {
        precondition(pixels.count == 3 * from * from, "an aligned crop of \(from)² RGB pixels")
        var px = pixels, n = from
        switch self {
        case .pilBilinear where from != side, .pilBicubic where from != side:
            px = ImageResize.pil(pixels, width: from, height: from, toWidth: side, toHeight: side,
                                 filter: self == .pilBilinear ? .bilinear : .bicubic)
            n = side
        default: break
        }
        var t = Tensor(zeros: [3, n, n])
        for i in 0..<(n * n) { for c in 0..<3 { t.data[c * n * n + i] = Float(px[i * 3 + c]) / 127.5 - 1 } }
        if n != side { t = ImageResize.bilinear(t, toHeight: side, toWidth: side) }
        return t
    }

    /// Words for listings.
    public var summary: String {
        switch self {
        case .direct: return "aligned crop sampled at the input side"
        case .pilBilinear: return "512² aligned crop, PIL bilinear resize"
        case .pilBicubic: return "512² aligned crop, PIL bicubic resize"
        case .bilinearNoAntialias: return "512² aligned crop, bilinear resize without antialiasing"
        }
    }
}
