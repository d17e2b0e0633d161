import XCTest
final class TensorsTestsSeed: XCTestCase { func testSeed() {} }
