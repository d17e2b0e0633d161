import Tensors
import XCTest
@testable import Models

/// The renderer takes rays column by column (for the caches); the image it returns must not depend on that.
final class ImportanceRendererTests: XCTestCase {
    func testColumnOrderTakesEachColumnTopToBottom() {
        // A 3-wide, 2-high image: raster rays 0 1 2 / 3 4 5.
        XCTAssertEqual(ImportanceRenderer.columnOrder(rays: 6, width: 3), [0, 3, 1, 4, 2, 5])
        XCTAssertNil(ImportanceRenderer.columnOrder(rays: 6, width: nil))
        XCTAssertNil(ImportanceRenderer.columnOrder(rays: 7, width: 3), "rays that are not a whole raster keep their order")
        XCTAssertNil(ImportanceRenderer.columnOrder(rays: 3, width: 3), "one row: nothing to reorder")
        let order = ImportanceRenderer.columnOrder(rays: 128 * 128, width: 128)!
        XCTAssertEqual(Set(order).count, order.count, "a permutation")
    }

    func testTheRenderIsTheSameInEitherRayOrder() throws {
        let run = try GeneratorParityTests.run()
        let g = run.generator
        let res = g.options.neuralRenderingResolution
        let (origins, directions) = RaySampler.rays(camera: run.io["c_render"]!.data, resolution: res)
        let raster = g.renderer.render(planes: run.output.planes, origins: origins, directions: directions)
        let columns = g.renderer.render(planes: run.output.planes, origins: origins, directions: directions, imageWidth: res)
        // Equal up to the rounding of the decoder's products, whose library kernels sum a row in an order that
        // depends on where it falls in its block of points.
        for (name, a, b) in [("features", columns.features, raster.features), ("depth", columns.depth, raster.depth)] {
            XCTAssertEqual(a.count, b.count)
            let scale = b.map(abs).max() ?? 0
            let err = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            print("ray order \(name): max|a-b|/max|b| = \(err / scale)")
            XCTAssertLessThanOrEqual(err / scale, 1e-6, name)
            XCTAssertGreaterThan(scale, 0, name)
        }
    }

    func testBFloat16PlanesRenderAsTheRoundedFloatPlanes() throws {
        // With bf16 the renderer stores its planes as bfloat16 (on huge pages, converted from the channels-last
        // copy); the lookups widen them exactly, so the render equals a float32 render of the planes rounded to
        // bf16 beforehand. Both renderers share one float32 decoder, so this holds the bf16 lookup path to the bit
        // on every machine, with or without AVX512_BF16.
        let run = try GeneratorParityTests.run()
        let g = run.generator
        let decoder = g.renderer.decoder  // the fixture's generator is float32: its decoder has no bf16 layers
        XCTAssertNil(decoder.bf16)
        let res = g.options.neuralRenderingResolution
        let (origins, directions) = RaySampler.rays(camera: run.io["c_render"]!.data, resolution: res)
        let planes = run.output.planes
        let rounded = Tensor(shape: planes.shape, data: Precision.bfloat16Bits(planes.data).map { Float(bitPattern: UInt32($0) << 16) })
        let bf16 = ImportanceRenderer(decoder: decoder, options: g.renderer.options, precision: .bf16)
        let fp32 = ImportanceRenderer(decoder: decoder, options: g.renderer.options, precision: .fp32)
        let a = bf16.render(planes: planes, origins: origins, directions: directions, imageWidth: res)
        let b = fp32.render(planes: rounded, origins: origins, directions: directions, imageWidth: res)
        XCTAssertTrue(a.features == b.features, "features")
        XCTAssertTrue(a.depth == b.depth, "depth")
        XCTAssertFalse(rounded.data == planes.data, "the rounding changed the planes")
    }
}
