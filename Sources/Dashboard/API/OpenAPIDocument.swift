import Foundation

/// The API's OpenAPI document (`openapi.json` beside this file), served at `/api/openapi.json`: the same file the
/// generator made the API's types and routes from at build time.
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            preconditionFailure("openapi.json is missing from the Dashboard module's resources")
        }
        return Array(data)
    }()
}
