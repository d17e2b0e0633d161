import XCTest
final class JobsTestsSeed: XCTestCase { func testSeed() {} }
