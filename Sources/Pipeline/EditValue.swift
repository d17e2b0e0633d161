import Foundation

/// A strength that may change over the clip: a constant (`1.5`) or keyframes (`0:0,2s:1.5,4s:0`), where a
/// key's time is a frame number or seconds with an `s`. Between keys the value is linear; before the first
/// and after the last it holds.
public struct EditValue: Sendable, Equatable {
    public enum KeyTime: Sendable, Equatable {
        case frame(Int)
        case seconds(Double)
    }
    public var keys: [(time: KeyTime, value: Double)]

    public static func == (a: EditValue, b: EditValue) -> Bool {
        a.keys.count == b.keys.count && zip(a.keys, b.keys).allSatisfy { $0.time == $1.time && $0.value == $1.value }
    }

    public init(constant: Double) { keys = [(.frame(0), constant)] }

    init(keys: [(time: KeyTime, value: Double)]) { self.keys = keys }

    /// Parses a constant or a keyframe list; nil when malformed.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let v = Double(t) { self.init(constant: v); return }
        var keys: [(KeyTime, Double)] = []
        for item in t.split(separator: ",") {
            let kv = item.split(separator: ":")
            guard kv.count == 2, let value = Double(kv[1].trimmingCharacters(in: .whitespaces)) else { return nil }
            let time = kv[0].trimmingCharacters(in: .whitespaces).lowercased()
            if time.hasSuffix("s"), let s = Double(time.dropLast()), s >= 0 {
                keys.append((.seconds(s), value))
            } else if let f = Int(time), f >= 0 {
                keys.append((.frame(f), value))
            } else {
                return nil
            }
        }
        guard !keys.isEmpty else { return nil }
        self.init(keys: keys)
    }

    public var isConstant: Bool { keys.count == 1 }

    /// Value at frame `index`, time `seconds` (both given so keys may use either).
    public func value(frame index: Int, seconds: Double, frameRate: Double) -> Double {
        func time(_ k: KeyTime) -> Double {
            switch k {
            case .frame(let f): return Double(f) / max(frameRate, 1e-9)
            case .seconds(let s): return s
            }
        }
        let ks = keys.map { (time($0.time), $0.value) }.sorted { $0.0 < $1.0 }
        let now = seconds
        if now <= ks[0].0 { return ks[0].1 }
        for i in 1..<ks.count where now <= ks[i].0 {
            let (t0, v0) = ks[i - 1], (t1, v1) = ks[i]
            return t1 > t0 ? v0 + (v1 - v0) * (now - t0) / (t1 - t0) : v1
        }
        return ks[ks.count - 1].1
    }
}

/// `NAME=VALUE` as given on the command line (`--edit Smiling=1.5`, `--edit Young=0:0,2s:-1`).
public struct NamedEdit: Sendable, Equatable {
    public var name: String
    public var value: EditValue

    public init(name: String, value: EditValue) { self.name = name; self.value = value }

    public init?(argument: String) {
        guard let eq = argument.firstIndex(of: "=") else { return nil }
        let name = String(argument[..<eq]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, let v = EditValue(parsing: String(argument[argument.index(after: eq)...])) else { return nil }
        self.name = name; self.value = v
    }
}
