import XCTest
@testable import Tensors

/// The GEMM front end: oneDNN's float32 matmul against a plain triple loop in every layout Gemm routes to
/// it, and the bf16 products against their bound (operands rounded to 8-bit mantissas, float32 sums).
final class GemmLibraryTests: XCTestCase {
    /// C = op(A)·op(B) (+ C) by the definition, in Double.
    func naive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int,
               c: [Float], ldc: Int, accumulate: Bool) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = accumulate ? Double(c[i * ldc + j]) : 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                out[i * ldc + j] = Float(s)
            }
        }
        return out
    }

    func product(_ precision: Precision, transA: Bool, transB: Bool, accumulate: Bool, m: Int = 48, n: Int = 70, k: Int = 40)
        -> (mine: [Float], exact: [Float]) {
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
        let a = random((transA ? k : m) * lda, seed: 1), b = random((transB ? n : k) * ldb, seed: 2)
        var c = random(m * ldc, seed: 3)
        let exact = naive(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                          accumulate: accumulate)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Gemm.serial(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                b: bp.baseAddress!, ldb: ldb, beta: accumulate ? 1 : 0, c: cp.baseAddress!, ldc: ldc,
                                precision: precision)
                }
            }
        }
        return (c, exact)
    }

    func testFloat32ProductsMatchTheDefinitionInEveryLayout() {
        for transA in [false, true] { for transB in [false, true] { for acc in [false, true] {
            let (mine, exact) = product(.fp32, transA: transA, transB: transB, accumulate: acc)
            assertClose(mine, exact, tol: 1e-5)
        }}}
    }

    func testBF16ProductsStayWithinTheirRoundingBound() throws {
        guard Precision.bf16Supported else { throw XCTSkip("this CPU has no AVX512_BF16 / AMX") }
        for transA in [false, true] { for transB in [false, true] { for acc in [false, true] {
            let (mine, exact) = product(.bf16, transA: transA, transB: transB, accumulate: acc)
            // Each operand carries a relative rounding error ≤ 2⁻⁹; over k = 40 terms of random sign the
            // error stays far under 1% of the largest output.
            let scale = exact.map(abs).max()!
            let err = zip(mine, exact).map { abs($0 - $1) }.max()! / scale
            XCTAssertLessThanOrEqual(err, 1e-2)
            // …and it is bf16: float32 products land within 1e-5.
            XCTAssertGreaterThan(err, 1e-5, "bf16 product as exact as float32: the bf16 path did not run")
        }}}
    }

    func testBF16ConversionRoundsToNearestEven() {
        // 1 + 2⁻⁸ is halfway between two bf16 values (1 and 1 + 2⁻⁷): ties go to the even one, 1.
        let values: [Float] = [1, 1 + 1.0 / 256, 1 + 3.0 / 256, -2.5, 0, 3.0e38, .infinity]
        let back = Precision.bfloat16Bits(values).map { Float(bitPattern: UInt32($0) << 16) }
        XCTAssertEqual(back[0], 1)
        XCTAssertEqual(back[1], 1)
        XCTAssertEqual(back[2], 1 + 4.0 / 256)
        XCTAssertEqual(back[3], -2.5)
        XCTAssertEqual(back[4], 0)
        XCTAssertEqual(back[6], .infinity)
        XCTAssertEqual(back[5], 3.0e38, accuracy: 3.0e38 / 128)
    }

    /// RMS of a − b over RMS of b.
    func rmsRelative(_ a: [Float], _ b: [Float]) -> Double {
        let e = zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
        return (e / b.map { Double($0) * Double($0) }.reduce(0, +)).squareRoot()
    }

    func testConvolutionsInBF16StayNearFloat32() throws {
        guard Precision.bf16Supported else { throw XCTSkip("this CPU has no AVX512_BF16 / AMX") }
        let ic = 64, oc = 48, side = 32
        let x = random(ic * side * side, seed: 5), w = random(oc * ic * 9, seed: 6)
        func conv(_ p: Precision, winograd: Bool) -> [Float] {
            var y = [Float](repeating: 0, count: oc * side * side)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
                Convolution.conv2d(input: xp.baseAddress!, inChannels: ic, height: side, width: side, weight: wp.baseAddress!,
                                   outChannels: oc, kernel: 3, padding: 1, output: yp.baseAddress!, allowWinograd: winograd,
                                   precision: p)
            }}}
            return y
        }
        // im2col: the operands' rounding alone, ~2⁻⁹ per term, averaging out over 576 terms.
        let direct = rmsRelative(conv(.bf16, winograd: false), conv(.fp32, winograd: false))
        XCTAssertLessThanOrEqual(direct, 5e-3)
        XCTAssertGreaterThan(direct, 1e-5)
        // Winograd F(4×4): the transformed tiles and weights are rounded, and the output transform's
        // cancellation (coefficients up to 8) amplifies that about tenfold (2.5e-2 measured on 256 channels
        // at 64²). The networks' bound is on their outputs (BFloat16FidelityTests, the benches).
        let winograd = rmsRelative(conv(.bf16, winograd: true), conv(.fp32, winograd: true))
        XCTAssertLessThanOrEqual(winograd, 5e-2)
        XCTAssertGreaterThan(winograd, direct)
    }

    func testAutoPicksBF16ExactlyWhereTheCPUHasIt() throws {
        XCTAssertEqual(try PrecisionChoice.auto.resolve(), Precision.bf16Supported ? .bf16 : .fp32)
        XCTAssertEqual(try PrecisionChoice.fp32.resolve(), .fp32)
        if Precision.bf16Supported {
            XCTAssertEqual(try PrecisionChoice.bf16.resolve(), .bf16)
        } else {
            XCTAssertThrowsError(try PrecisionChoice.bf16.resolve())
        }
    }
}
