import Faces
import Foundation
import Video
import XCTest
@testable import Pipeline

/// The identity figure on frames whose "avatar" is known: the source's own aligned face (the same
/// person, so within dlib's same-person distance), a blank picture (no plausible face, counted apart),
/// and a frame without a source face (counted apart).
final class IdentityFigureTests: XCTestCase {
    func testSamePersonBlankAvatarAndMissingSourceFaceAreCountedApart() throws {
        let paths = FaceModelPaths(directory: nil, environment: [:])
        guard FileManager.default.fileExists(atPath: paths.recognizer), FileManager.default.fileExists(atPath: paths.predictor) else {
            throw XCTSkip("face models not installed (scripts/install-deps.sh)")
        }
        let reader = try VideoReader(url: AvatarPipelineTests.sample)
        let tracker = try FaceTracker(paths: paths)
        let figure = try IdentityFigure(paths: paths)
        var index = 0
        while index < 12, let f = try reader.nextFrame() {
            let image = RGBImage(width: f.width, height: f.height, pixels: f.rgb)
            let face = try XCTUnwrap(tracker.process(image, index: index))
            let quad = face.rawQuad.corners.flatMap { [Float($0.x), Float($0.y)] }
            let landmarks = face.landmarks.flatMap { [Float($0.x), Float($0.y)] }
            let raw = TrackFrame(code: [], camera: [], quad: quad, landmarks: landmarks, pts: 0, faceFound: index != 11)
            var avatar = AlignedCrop.crop(image, transform: face.rawQuad.transform, size: 256)
            if index == 10 { avatar = RGBImage(width: 256, height: 256, pixels: [UInt8](repeating: 128, count: 256 * 256 * 3)) }
            try figure.observe(RenderedFrame(index: index, seconds: 0, raw: raw, smoothed: raw, camera: [], avatar: avatar, source: image))
            index += 1
        }
        let s = figure.summary
        print(s.line)
        XCTAssertEqual(s.frames, 12)
        XCTAssertEqual(s.sourceWithoutFace, 1)
        XCTAssertEqual(s.avatarWithoutFace, 1)
        XCTAssertEqual(s.compared, 10)
        XCTAssertEqual(s.shareSamePerson, 1)
        XCTAssertGreaterThan(try XCTUnwrap(s.similarityP10), 0.9)
        XCTAssertLessThan(try XCTUnwrap(s.meanDistance), 0.3)
    }
}
