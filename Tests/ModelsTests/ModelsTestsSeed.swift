import XCTest
final class ModelsTestsSeed: XCTestCase { func testSeed() {} }
