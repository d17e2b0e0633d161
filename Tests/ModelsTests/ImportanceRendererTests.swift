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
}
