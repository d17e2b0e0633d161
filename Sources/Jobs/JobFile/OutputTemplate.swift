/// An output path template such as `out/{clip}-{style}.mp4`.
public struct OutputTemplate: Sendable, Equatable {
    /// `{clip}`: the input's file name without extension; `{style}`: the settings entry's style;
    /// `{ext}`: the input's extension without the dot.
    public static let placeholders = ["clip", "style", "ext"]

    enum Piece: Equatable {
        case text(String)
        case placeholder(String)
    }

    let pieces: [Piece]

    /// Parses the template; the error message names the first problem.
    public init(_ template: String) throws(TemplateError) {
        var pieces: [Piece] = []
        var text = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            if character == "{" {
                guard let close = template[index...].firstIndex(of: "}") else { throw .unclosedBrace }
                let name = String(template[template.index(after: index)..<close])
                guard Self.placeholders.contains(name) else { throw .unknownPlaceholder(name) }
                if !text.isEmpty { pieces.append(.text(text)); text = "" }
                pieces.append(.placeholder(name))
                index = template.index(after: close)
            } else if character == "}" {
                throw .unopenedBrace
            } else {
                text.append(character)
                index = template.index(after: index)
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        self.pieces = pieces
    }

    public func render(_ values: [String: String]) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): return text
            case .placeholder(let name): return values[name] ?? ""
            }
        }.joined()
    }

    public enum TemplateError: Error, Equatable, CustomStringConvertible {
        case unclosedBrace, unopenedBrace, unknownPlaceholder(String)

        public var description: String {
            switch self {
            case .unclosedBrace: return "'{' without a matching '}'"
            case .unopenedBrace: return "'}' without a matching '{'"
            case .unknownPlaceholder(let name):
                return "unknown placeholder {\(name)} (known: \(OutputTemplate.placeholders.map { "{\($0)}" }.joined(separator: ", ")))"
            }
        }
    }
}
