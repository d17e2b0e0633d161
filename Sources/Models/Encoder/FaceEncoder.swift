// The networks that invert an aligned face crop into W+ codes, behind one interface for the pipeline: the IR-SE50
// family (e4e, pSp's encoders, PREIM3D, TriPlaneNet's W+ part) and GOAE's Swin-V2 encoder.
import Foundation
import Tensors

/// A face encoder's layout, read from its bundle's header: what the pipeline checks and counts before reading weights.
public enum FaceEncoderLayout: Sendable, Equatable {
    case irse(EncoderArchitecture)
    case goae(GOAEncoderArchitecture)

    public var styleCount: Int {
        switch self {
        case .irse(let a): return a.styleCount
        case .goae(let a): return a.styleCount
        }
    }

    public var wDim: Int {
        switch self {
        case .irse(let a): return a.styleWidth
        case .goae(let a): return a.wDim
        }
    }

    /// The side of the aligned crop the network reads.
    public var inputSide: Int {
        switch self {
        case .irse: return EncoderArchitecture.inputSize
        case .goae(let a): return a.swin.inputSide
        }
    }

    public var flopsPerImage: Double {
        switch self {
        case .irse(let a): return a.flopsPerImage
        case .goae(let a): return a.flopsPerImage
        }
    }

    /// "Encoder4Editing IR-SE50", "GOAEncoder Swin-V2 …".
    public var summary: String {
        switch self {
        case .irse(let a): return "\(a.head.rawValue) IR-SE50"
        case .goae(let a): return "\(GOAEncoderArchitecture.name) \(a.summary)"
        }
    }

    /// The layout of an encoder bundle folder (or an IR-SE50 .safetensors file), from headers only.
    public static func read(_ url: URL) throws -> FaceEncoderLayout {
        let manifest = url.appendingPathComponent("model.json")
        if FileManager.default.fileExists(atPath: manifest.path), try EncoderManifest.read(manifest).isGOAE {
            return .goae(try GOAEncoder.architecture(inBundle: url))
        }
        return .irse(try EncoderWeights.load(from: url).architecture)
    }
}

/// A built face encoder.
public enum FaceEncoder: Sendable {
    case irse(Encoder4Editing)
    case goae(GOAEncoder)

    public var layout: FaceEncoderLayout {
        switch self {
        case .irse(let e): return .irse(e.architecture)
        case .goae(let e): return .goae(e.architecture)
        }
    }

    /// W+ codes [styles, w], latent average included, for an aligned crop [3, S, S] in [−1, 1] (S = layout.inputSide).
    public func codes(_ image: Tensor) throws -> Tensor {
        switch self {
        case .irse(let e): return try e.encode(image).codes
        case .goae(let e):
            guard let latent = e.latentAverage else {
                throw EncoderLoadError.badManifest(file: e.file, reason: "a GOAE encoder without latent_avg (import it with --generator)")
            }
            var codes = try e.encode(image).codes
            for i in 0..<codes.count { codes.data[i] += latent.data[i] }
            return codes
        }
    }
}

/// A network that refines the tri-planes of an inverted face from its aligned crop (TriPlaneNet, GOAE's AFA).
public protocol PlaneRefinement: Sendable {
    /// The generator the refined planes belong to.
    var generator: TriPlaneGenerator { get }
    /// The side of the aligned crop it reads.
    var imageSide: Int { get }
    /// The refined planes for a code's styles at the crop's camera, and what refinement adds to the code's own planes
    /// (added to the planes of an edited code, they carry the person's detail into the edit).
    func refine(crop: Tensor, styles: StyleSpace, camera: [Float]) throws -> (planes: Tensor, offsets: Tensor)
}

extension TriPlaneNetInversion: PlaneRefinement {
    public var imageSide: Int { Self.imageSide }

    public func refine(crop: Tensor, styles: StyleSpace, camera: [Float]) throws -> (planes: Tensor, offsets: Tensor) {
        try refine(image: crop, styles: styles, camera: camera)
    }
}

extension GOAERefinement: PlaneRefinement {
    public var imageSide: Int { adapter.side }

    public func refine(crop: Tensor, styles: StyleSpace, camera: [Float]) throws -> (planes: Tensor, offsets: Tensor) {
        let r = try refine(image512: crop, styles: styles, camera: camera)
        return (r.planes, TriPlaneNetInversion.difference(r.planes, r.codePlanes))
    }
}
