import Foundation
import XCTest
@testable import Tensors

final class PointwiseTests: XCTestCase {
    func testExpSoftplusSigmoidAgainstLibm() {
        var worstExp: Double = 0, worstSoftplus: Double = 0, worstSigmoid: Double = 0
        var x: Float = -30
        while x < 30 {
            let e = Double(x)
            worstExp = max(worstExp, abs(Double(Pointwise.exp(x)) - Foundation.exp(e)) / Foundation.exp(e))
            let sp = e > 20 ? e : Foundation.log1p(Foundation.exp(e))
            worstSoftplus = max(worstSoftplus, abs(Double(Pointwise.softplus(x)) - sp) / max(sp, 1e-30))
            let sg = 1 / (1 + Foundation.exp(-e))
            worstSigmoid = max(worstSigmoid, abs(Double(Pointwise.sigmoid(x)) - sg) / sg)
            x += 0.00731
        }
        XCTAssertLessThan(worstExp, 5e-7)
        XCTAssertLessThan(worstSoftplus, 1e-6)
        XCTAssertLessThan(worstSigmoid, 5e-7)
        XCTAssertEqual(Pointwise.softplus(25), 25)
    }

    func testBiasActLeakyReLUGainAndClamp() {
        var x: [Float] = [-1, 0.5, 2, -3]
        let bias: [Float] = [0.5, 1]
        Activation.leakyReLU(0.2).apply(&x, channels: 2, count: 2, bias: bias, gain: 2, clamp: 5)
        // channel 0: (-0.5 → -0.1)·2, (1 → 1)·2; channel 1: (3)·2 = 6 → clamp 5, (-2 → -0.4)·2
        XCTAssertEqual(x[0], -0.2, accuracy: 1e-6)
        XCTAssertEqual(x[1], 2, accuracy: 1e-6)
        XCTAssertEqual(x[2], 5, accuracy: 1e-6)
        XCTAssertEqual(x[3], -0.8, accuracy: 1e-6)
    }

    func testRayOps() {
        let w: [Float] = [0.1, 0.5, 0.2, 0.9]
        var pooled = [Float](repeating: 0, count: 4)
        RayOps.maxThenAvgPool2(w, count: 4, into: &pooled)
        // max-pool (k2, s1, p1): [0.1, 0.5, 0.5, 0.9, 0.9]; avg-pool (k2, s1): [0.3, 0.5, 0.7, 0.9]
        for (a, b) in zip(pooled, [0.3, 0.5, 0.7, 0.9] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        var cp = [Float](repeating: 0, count: 3)
        RayOps.exclusiveCumprod([0.5, 0.5, 0.2], count: 3, into: &cp)
        XCTAssertEqual(cp, [1, 0.5, 0.25])
        // Uniform weights over bins 0…4: the inverse CDF is linear, u ↦ 4u (weights on edges 0..<4).
        let bins: [Float] = [0, 1, 2, 3, 4]
        let weights: [Float] = [1, 1, 1, 1]
        let u: [Float] = [0, 0.25, 0.5, 0.9, 1]
        var cdf = [Float](repeating: 0, count: 5), out = [Float](repeating: 0, count: 5)
        RayOps.samplePDF(bins: bins, weights: weights, count: 4, u: u, samples: 5, scratch: &cdf, into: &out)
        for (a, b) in zip(out, [0, 1, 2, 3.6, 4] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // All mass in the third bin: every sample lands between edges 2 and 3.
        RayOps.samplePDF(bins: bins, weights: [0, 0, 1, 0], count: 4, u: [0.2, 0.5, 0.8], samples: 3, scratch: &cdf, into: &out)
        for k in 0..<3 { XCTAssertTrue(out[k] >= 2 && out[k] <= 3, "sample \(out[k])") }
    }
}
