import XCTest
@testable import Models

/// The resize before SuperresolutionHybrid8XDC (F.interpolate bilinear, align_corners=False): enlarging
/// 64 → 128 with antialias=True gives plain bilinear's weights, which is why the -64 forward can use either.
final class SuperResolutionResizeTests: XCTestCase {
    func testAntialiasedEnlargingEqualsBilinear() {
        let aa = SuperResolution.taps(inSize: 64, outSize: 128, antialias: true)
        let plain = SuperResolution.taps(inSize: 64, outSize: 128, antialias: false)
        for (o, (a, p)) in zip(aa, plain).enumerated() {
            // Same value at each input index (a tap may list a zero weight the other omits).
            var wa = [Int: Float](), wp = [Int: Float]()
            for (k, w) in a.weights.enumerated() where w != 0 { wa[a.first + k] = w }
            for (k, w) in p.weights.enumerated() where w != 0 { wp[p.first + k] = w }
            XCTAssertEqual(Set(wa.keys), Set(wp.keys), "output \(o)")
            for (i, w) in wa { XCTAssertEqual(w, wp[i] ?? -1, accuracy: 1e-6, "output \(o) input \(i)") }
        }
        // Interior outputs sit a quarter pixel from their inputs: 0.75 / 0.25.
        XCTAssertEqual(plain[1].first, 0)
        XCTAssertEqual(plain[1].weights, [0.75, 0.25])
    }

    func testAntialiasedShrinkingWidensTheFilter() {
        let t = SuperResolution.taps(inSize: 256, outSize: 128, antialias: true)
        XCTAssertEqual(t[10].weights.count, 4)
        XCTAssertEqual(t[10].weights.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(t[10].weights, [0.125, 0.375, 0.375, 0.125])
    }
}
