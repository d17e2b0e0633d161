/// Which planes a tri-plane generator reads a point from. EG3D as released (`generate_planes` in
/// training/volumetric_rendering/renderer.py) projects onto XY, XZ and ZX, so two planes share the x axis and
/// none sees y against z (NVlabs/eg3d#67, acknowledged by its authors); models trained after the fix (LPFF's,
/// PanoHead's tri-grid) use XY, XZ and ZY. A model renders correctly only with the axes it was trained with.
public enum TriplaneAxes: String, Codable, Sendable, CaseIterable {
    /// XY, XZ, ZX: EG3D's released code and models.
    case original
    /// XY, XZ, ZY: the fix of NVlabs/eg3d#67.
    case corrected

    /// `generate_planes()`'s three 3×3 matrices, row-major, as a checkpoint records them in its renderer's
    /// `plane_axes`.
    public var matrices: [Float] {
        let xy: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1], xz: [Float] = [1, 0, 0, 0, 0, 1, 0, 1, 0]
        switch self {
        case .original: return xy + xz + [0, 0, 1, 1, 0, 0, 0, 1, 0]
        case .corrected: return xy + xz + [0, 0, 1, 0, 1, 0, 1, 0, 0]
        }
    }

    /// The convention whose matrices these are, nil for any other projection.
    public init?(matrices: [Float]) {
        guard let found = Self.allCases.first(where: { $0.matrices == matrices }) else { return nil }
        self = found
    }
}
