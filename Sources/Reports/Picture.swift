import Faces
import Foundation
import Video

/// Small pictures for pages: shrunk by area averaging and inlined as PNG data URLs.
public enum Picture {
    /// The picture scaled down (never up) so that its longer side is at most `size`.
    public static func fit(_ image: RGBImage, within size: Int) -> RGBImage {
        let scale = Double(max(image.width, image.height)) / Double(max(size, 1))
        guard scale > 1 else { return image }
        let w = max(1, Int((Double(image.width) / scale).rounded())), h = max(1, Int((Double(image.height) / scale).rounded()))
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let y0 = y * image.height / h, y1 = max(y0 + 1, (y + 1) * image.height / h)
            for x in 0..<w {
                let x0 = x * image.width / w, x1 = max(x0 + 1, (x + 1) * image.width / w)
                var sum = (0, 0, 0)
                for sy in y0..<y1 {
                    var p = (sy * image.width + x0) * 3
                    for _ in x0..<x1 {
                        sum.0 += Int(image.pixels[p]); sum.1 += Int(image.pixels[p + 1]); sum.2 += Int(image.pixels[p + 2])
                        p += 3
                    }
                }
                let n = (y1 - y0) * (x1 - x0), o = (y * w + x) * 3
                out[o] = UInt8(sum.0 / n); out[o + 1] = UInt8(sum.1 / n); out[o + 2] = UInt8(sum.2 / n)
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    public static func png(_ image: RGBImage) throws -> Data {
        try ImageFile.pngData(rgb: image.pixels, width: image.width, height: image.height)
    }

    public static func dataURL(_ image: RGBImage) throws -> String {
        "data:image/png;base64," + (try png(image)).base64EncodedString()
    }
}
