import XCTest
@testable import Tensors

/// The prepared modulated convolution (weights transformed once, styles and demodulation applied to
/// activations) against modulating the weight and convolving, for each of its plans.
final class ModulatedConvolutionTests: XCTestCase {
    let filter: [Float] = {
        let f1: [Float] = [1, 3, 3, 1]
        return (0..<16).map { f1[$0 / 4] * f1[$0 % 4] / 64 }
    }()

    func check(inChannels i: Int, outChannels o: Int, side: Int, up: Int, expectPlan: String,
               file: StaticString = #filePath, line: UInt = #line) {
        let x = random(i * side * side, seed: 31), wt = random(o * i * 9, seed: 32)
        let styles = random(i, seed: 33).map { $0 + 1.5 }
        let conv = ModulatedConvolution(weight: wt, outChannels: o, inChannels: i, kernel: 3, up: up, inputSide: side,
                                        filter: filter, filterSize: 4)
        XCTAssertEqual(String(describing: conv.plan).prefix(expectPlan.count), Substring(expectPlan), file: file, line: line)
        let n = o * side * side * up * up
        var out = [Float](repeating: .nan, count: n)
        conv.forward(input: x, height: side, width: side, styles: styles, output: &out)
        let m = FusedModulatedConv.modulate(weight: wt, outChannels: o, inChannels: i, taps: 9, styles: styles, demodulate: true)
        var ref = [Float](repeating: 0, count: n)
        FusedModulatedConv.convolve(input: x, inChannels: i, height: side, width: side, weight: m, outChannels: o, kernel: 3,
                               up: up, filter: filter, filterSize: 4, output: &ref)
        assertClose(out, ref, tol: 1e-5, file: file, line: line)
    }

    func testWinogradPlanMatchesModulatedWeights() {
        check(inChannels: 5, outChannels: 4, side: 16, up: 1, expectPlan: "winograd")
    }

    func testPolyphasePlanMatchesTransposedConvolutionAndFilter() {
        check(inChannels: 3, outChannels: 2, side: 64, up: 2, expectPlan: "polyphase")
    }

    func testSmallPlanesKeepTheTransposedAndDirectForms() {
        check(inChannels: 3, outChannels: 2, side: 8, up: 2, expectPlan: "transposed")
        check(inChannels: 3, outChannels: 2, side: 8, up: 1, expectPlan: "direct")
    }

    func testDemodulationNormalisesEachOutputFilter() {
        let i = 4, o = 3
        let wt = random(o * i * 9, seed: 41), s = random(i, seed: 42)
        let conv = ModulatedConvolution(weight: wt, outChannels: o, inChannels: i, kernel: 3, up: 1, inputSide: 8,
                                        filter: filter, filterSize: 4)
        let d = conv.demodulation(styles: s)
        for oc in 0..<o {
            var sum: Float = 0
            for j in 0..<(i * 9) { let v = wt[oc * i * 9 + j] * s[j / 9] * d[oc]; sum += v * v }
            XCTAssertEqual(sum, Float(1), accuracy: 1e-4)
        }
    }
}
