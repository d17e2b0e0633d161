import CFFmpeg

/// How a video's pixel values map to colours (ITU-T H.273's four fields as FFmpeg reports them): the
/// YUV↔RGB matrix, the range of the values, the primaries and the transfer curve.
public struct ColorDescription: Sendable, Equatable, CustomStringConvertible {
    public var matrix: AVColorSpace
    public var range: AVColorRange
    public var primaries: AVColorPrimaries
    public var transfer: AVColorTransferCharacteristic

    /// What avatarize writes: BT.709 (HD) primaries, transfer and matrix, limited ("TV") range, the
    /// description players assume for SDR H.264 and the one that carries no surprises when tagged.
    public static let bt709Limited = ColorDescription(matrix: AVCOL_SPC_BT709, range: AVCOL_RANGE_MPEG,
                                                      primaries: AVCOL_PRI_BT709, transfer: AVCOL_TRC_BT709)

    public init(matrix: AVColorSpace, range: AVColorRange, primaries: AVColorPrimaries, transfer: AVColorTransferCharacteristic) {
        self.matrix = matrix; self.range = range; self.primaries = primaries; self.transfer = transfer
    }

    /// The description a decoded frame carries; `format` tells the JPEG-style full-range formats (yuvj*),
    /// which FFmpeg marks by format rather than by range.
    init(frame f: UnsafePointer<AVFrame>) {
        let format = AVPixelFormat(rawValue: f.pointee.format)
        var range = f.pointee.color_range
        if range == AVCOL_RANGE_UNSPECIFIED,
           [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P].contains(format) {
            range = AVCOL_RANGE_JPEG
        }
        self.init(matrix: f.pointee.colorspace, range: range, primaries: f.pointee.color_primaries, transfer: f.pointee.color_trc)
    }

    /// The description a stream's header declares (frames may refine it).
    init(parameters p: UnsafePointer<AVCodecParameters>) {
        self.init(matrix: p.pointee.color_space, range: p.pointee.color_range,
                  primaries: p.pointee.color_primaries, transfer: p.pointee.color_trc)
    }

    /// PQ (SMPTE ST 2084) and HLG (ARIB STD-B67): high dynamic range, which an 8-bit BT.709 picture
    /// cannot show without tone mapping.
    public var isHighDynamicRange: Bool { transfer == AVCOL_TRC_SMPTE2084 || transfer == AVCOL_TRC_ARIB_STD_B67 }

    /// Whether the values use the whole 0…255 (JPEG, "PC") range rather than 16…235 ("TV"). Unspecified
    /// counts as limited, as in FFmpeg and every player.
    public var isFullRange: Bool { range == AVCOL_RANGE_JPEG }

    /// The swscale coefficient set (SWS_CS_*) for the matrix. Unspecified and unknown matrices get BT.601,
    /// FFmpeg's own default, so avatarize decodes an untagged file exactly as `ffmpeg` does.
    var swscaleMatrix: Int32 {
        switch matrix {
        case AVCOL_SPC_BT709: return SWS_CS_ITU709
        case AVCOL_SPC_FCC: return SWS_CS_FCC
        case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020
        default: return SWS_CS_ITU601
        }
    }

    public var description: String {
        func name(_ s: UnsafePointer<CChar>?) -> String { s.map { String(cString: $0) } ?? "unknown" }
        return "matrix \(name(av_color_space_name(matrix))), \(name(av_color_range_name(range))) range, "
            + "primaries \(name(av_color_primaries_name(primaries))), transfer \(name(av_color_transfer_name(transfer)))"
    }

    /// Sets `sws`'s conversion between YUV described by `yuv` and full-range RGB. `toRGB` is the
    /// direction: decoding (YUV in) or encoding (RGB in). Returns false when swscale refuses.
    static func configure(_ sws: OpaquePointer, yuv: ColorDescription, toRGB: Bool) -> Bool {
        let table = sws_getCoefficients(yuv.swscaleMatrix)
        // brightness 0, contrast and saturation 1.0 in 16.16 fixed point: no adjustment.
        let rc = toRGB
            ? sws_setColorspaceDetails(sws, table, yuv.isFullRange ? 1 : 0, table, 1, 0, 1 << 16, 1 << 16)
            : sws_setColorspaceDetails(sws, table, 1, table, yuv.isFullRange ? 1 : 0, 0, 1 << 16, 1 << 16)
        return rc >= 0
    }
}
