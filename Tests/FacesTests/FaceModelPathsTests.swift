import XCTest
@testable import Faces

/// Where the models are looked for, and what the user is told when one is missing.
final class FaceModelPathsTests: XCTestCase {
    func testDebianPathsByDefault() {
        let p = FaceModelPaths(directory: nil, environment: [:])
        XCTAssertEqual(p.frontalCascade, "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
        XCTAssertEqual(p.predictor, "/usr/share/dlib/shape_predictor_68_face_landmarks.dat")
    }

    func testOverrideByFlagThenEnvironment() {
        let env = [FaceModelPaths.environmentVariable: "/models/env"]
        XCTAssertEqual(FaceModelPaths(directory: nil, environment: env).predictor, "/models/env/shape_predictor_68_face_landmarks.dat")
        XCTAssertEqual(FaceModelPaths(directory: "/models/flag", environment: env).profileCascade, "/models/flag/haarcascade_profileface.xml")
    }

    func testMissingModelsNameTheirPackages() {
        XCTAssertThrowsError(try FaceTracker(paths: FaceModelPaths(directory: "/nonexistent-models", environment: [:]))) { error in
            XCTAssertEqual(error as? FacesError, .modelMissing(path: "/nonexistent-models/haarcascade_frontalface_default.xml", package: "opencv-data"))
            XCTAssertTrue("\(error)".contains("--face-models"))
        }
    }
}
