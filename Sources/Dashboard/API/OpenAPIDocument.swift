import Foundation

/// The API's OpenAPI document (`openapi.json` beside this file), served at `/api/openapi.json`: the same file the
/// generator made the API's types and routes from at build time. It travels in the module's resource bundle
/// (`avatarize_Dashboard.resources` beside the binary, as the demo models travel in `avatarize_Models.resources`).
enum OpenAPIDocument {
    static let bytes: [UInt8]? = Bundle.module.url(forResource: "openapi", withExtension: "json")
        .flatMap { try? Data(contentsOf: $0) }.map(Array.init)

    static let missing = "openapi.json is missing: copy avatarize_Dashboard.resources beside the avatarize binary"
}
