/// A box a Haar cascade proposed in a full-frame detection, and what verification made of it.
public struct FaceCandidate: Sendable, Equatable, Codable {
    /// The cascade's box.
    public var box: FaceRect
    /// "frontal", "frontal-alt2" or "profile".
    public var cascade: String
    /// The best score of dlib's HOG detector on the region around the box, when it found the face
    /// there (nil: HOG found nothing, or verification is off).
    public var hogScore: Double?
    /// Whether the candidate may become the subject.
    public var accepted: Bool

    public init(box: FaceRect, cascade: String, hogScore: Double? = nil, accepted: Bool) {
        self.box = box
        self.cascade = cascade
        self.hogScore = hogScore
        self.accepted = accepted
    }
}
