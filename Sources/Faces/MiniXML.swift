import Foundation

/// A small XML reader, enough for OpenCV's `FileStorage` cascade files: elements, attributes (skipped),
/// text, comments and the `<?xml?>` prolog. The cascades are ~1 MB of nested `<_>` elements with
/// numeric text; a dedicated reader keeps Faces free of libxml2 and is several times faster than
/// Foundation's event parser for this shape of document.
struct MiniXML {
    final class Element {
        let name: String
        var children: [Element] = []
        var text: String = ""
        init(name: String) { self.name = name }

        func child(_ name: String) -> Element? { children.first { $0.name == name } }
        var trimmedText: String {
            text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    struct SyntaxError: Error, CustomStringConvertible {
        let offset: Int
        let message: String
        var description: String { "XML syntax error at byte \(offset): \(message)" }
    }

    /// OpenCV's cascades nest 6 levels; a file nested 100 000 deep parsed fine but its elements, freed
    /// one inside the other, overflowed the stack.
    static let maxDepth = 64

    /// Parses `bytes` and returns the document's root element.
    static func parse(_ bytes: [UInt8]) throws -> Element {
        let document = Element(name: "#document")
        var stack: [Element] = [document]
        var i = 0
        let n = bytes.count
        func startsWith(_ s: String, at p: Int) -> Bool {
            let u = Array(s.utf8)
            guard p + u.count <= n else { return false }
            for k in 0..<u.count where bytes[p + k] != u[k] { return false }
            return true
        }
        func find(_ s: String, from p: Int) -> Int? {
            let u = Array(s.utf8)
            var q = p
            while q + u.count <= n {
                if bytes[q] == u[0] {
                    var ok = true
                    for k in 1..<u.count where bytes[q + k] != u[k] { ok = false; break }
                    if ok { return q }
                }
                q += 1
            }
            return nil
        }
        while i < n {
            if bytes[i] == UInt8(ascii: "<") {
                if startsWith("<!--", at: i) {
                    guard let e = find("-->", from: i + 4) else { throw SyntaxError(offset: i, message: "unterminated comment") }
                    i = e + 3
                } else if startsWith("<?", at: i) || startsWith("<!", at: i) {
                    guard let e = find(">", from: i) else { throw SyntaxError(offset: i, message: "unterminated declaration") }
                    i = e + 1
                } else if i + 1 < n && bytes[i + 1] == UInt8(ascii: "/") {
                    guard let e = find(">", from: i) else { throw SyntaxError(offset: i, message: "unterminated end tag") }
                    let name = String(decoding: bytes[(i + 2)..<e], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    guard stack.count > 1, stack.last!.name == name else {
                        throw SyntaxError(offset: i, message: "unexpected </\(name)>")
                    }
                    stack.removeLast()
                    i = e + 1
                } else {
                    guard let e = find(">", from: i) else { throw SyntaxError(offset: i, message: "unterminated tag") }
                    let selfClosing = bytes[e - 1] == UInt8(ascii: "/")
                    var nameEnd = i + 1
                    while nameEnd < e, !isSpace(bytes[nameEnd]), bytes[nameEnd] != UInt8(ascii: "/") { nameEnd += 1 }
                    let element = Element(name: String(decoding: bytes[(i + 1)..<nameEnd], as: UTF8.self))
                    stack.last!.children.append(element)
                    if !selfClosing {
                        guard stack.count <= Self.maxDepth else {
                            throw SyntaxError(offset: i, message: "elements nested deeper than \(Self.maxDepth) levels")
                        }
                        stack.append(element)
                    }
                    i = e + 1
                }
            } else {
                var e = i
                while e < n && bytes[e] != UInt8(ascii: "<") { e += 1 }
                if stack.count > 1 { stack.last!.text += String(decoding: bytes[i..<e], as: UTF8.self) }
                i = e
            }
        }
        guard stack.count == 1 else { throw SyntaxError(offset: n, message: "unclosed <\(stack.last!.name)>") }
        return document
    }

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    /// The whitespace-separated numbers in an element's text.
    static func numbers(_ text: String) -> [Double] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }).compactMap { Double($0) }
    }
}
