import XCTest
final class FacesTestsSeed: XCTestCase { func testSeed() {} }
