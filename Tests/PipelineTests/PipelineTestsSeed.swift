import XCTest
final class PipelineTestsSeed: XCTestCase { func testSeed() {} }
