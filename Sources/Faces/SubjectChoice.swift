import Foundation

/// Which face is the subject when a frame has several (`--face`).
public enum SubjectChoice: Sendable, Equatable, CustomStringConvertible {
    /// The verified face with the best size, centrality and detector score; kept by tracking and, after
    /// it is lost, re-acquired by its identity descriptor or its last position.
    case auto
    /// The largest verified face.
    case largest
    /// The verified face nearest the frame's centre.
    case center
    /// The N-th verified face from the left (1-based) in the first frame where faces appear.
    case index(Int)
    /// The verified face nearest this point (pixels).
    case point(x: Double, y: Double)

    /// Parses `auto`, `largest`, `center`, `N` or `X,Y`; nil when the text is none of them.
    public init?(argument: String) {
        let s = argument.trimmingCharacters(in: .whitespaces).lowercased()
        switch s {
        case "auto": self = .auto
        case "largest": self = .largest
        case "center", "centre": self = .center
        default:
            if let n = Int(s), n >= 1 {
                self = .index(n)
            } else {
                let parts = s.split(separator: ",", omittingEmptySubsequences: false)
                guard parts.count == 2, let x = Double(parts[0].trimmingCharacters(in: .whitespaces)),
                      let y = Double(parts[1].trimmingCharacters(in: .whitespaces)), x.isFinite, y.isFinite
                else { return nil }
                self = .point(x: x, y: y)
            }
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .largest: return "largest"
        case .center: return "center"
        case let .index(n): return "\(n)"
        case let .point(x, y): return "\(x),\(y)"
        }
    }
}
