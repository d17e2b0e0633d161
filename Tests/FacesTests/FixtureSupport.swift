import Foundation
import XCTest
@testable import Faces

/// The committed goldens (see Fixtures/README.md) and the Debian model paths the tests need.
enum Fixtures {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    struct Golden: Decodable {
        struct PnP: Decodable {
            let observed: [[Double]]
            let rotation: [Double]
            let translation: [Double]
        }
        struct Landmarks: Decodable {
            let rect: [Int]
            let points: [[Int]]
            /// OpenCV's solvePnP on these landmarks (see tools/make_face_goldens.py).
            let pnp: PnP
        }
        struct Image: Decodable {
            let file: String
            let width: Int
            let height: Int
            let detections: [String: [[Int]]]
            let landmarks: [Landmarks]
        }
        let opencv: String
        let dlib: String
        let scaleFactor: Double
        let minNeighbors: Int
        let images: [Image]
    }

    static func golden() throws -> Golden {
        let data = try Data(contentsOf: directory.appendingPathComponent("faces_goldens.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    /// Reads a binary PPM (P6, maxval 255), the format the golden script writes.
    static func ppm(_ name: String) throws -> RGBImage {
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
        var fields: [String] = []
        var i = 0
        while fields.count < 4 {
            while bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
            var j = i
            while !(bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09) { j += 1 }
            fields.append(String(decoding: bytes[i..<j], as: UTF8.self))
            i = j
        }
        i += 1
        guard fields[0] == "P6", let w = Int(fields[1]), let h = Int(fields[2]), fields[3] == "255" else {
            throw FacesError.invalidArgument("not a P6 PPM: \(name)")
        }
        return RGBImage(width: w, height: h, pixels: Array(bytes[i..<(i + w * h * 3)]))
    }

    /// Skips the test when a Debian model file is absent (the error names the package).
    static func requireModel(_ path: String, package: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) missing: apt-get install \(package)")
        }
    }

    static let cascadeDir = "/usr/share/opencv4/haarcascades"
    static let predictorPath = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
}
