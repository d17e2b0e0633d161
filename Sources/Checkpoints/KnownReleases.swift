/// Public checkpoints avatarize imports, by their released file names: where each is published and under which
/// licence, recorded in the bundle (model.json `license`, `published`) when the user does not say otherwise
/// (`models import --license`, `--published-at`). A file renamed by the user is simply not recognised.
public struct KnownRelease: Sendable, Equatable {
    public var fileNames: [String]
    public var what: String
    public var license: String
    public var published: String
}

public enum KnownReleases {
    /// EG3D's own weights (docs/models.md of NVlabs/eg3d points to the NGC catalog); LICENSE.txt of the same
    /// repository is the NVIDIA Source Code License for EG3D, non-commercial.
    static let eg3dLicense = "NVIDIA Source Code License for EG3D (non-commercial research and evaluation use only)"
    static let eg3dCatalog = "https://catalog.ngc.nvidia.com/orgs/nvidia/teams/research/models/eg3d"

    public static let all: [KnownRelease] = [
        KnownRelease(fileNames: ["ffhq512-64.pkl", "ffhq512-128.pkl"], what: "EG3D FFHQ 512² generator",
                     license: eg3dLicense, published: eg3dCatalog),
        KnownRelease(fileNames: ["ffhqrebalanced512-64.pkl", "ffhqrebalanced512-128.pkl"], what: "EG3D rebalanced-FFHQ 512² generator",
                     license: eg3dLicense, published: eg3dCatalog),
        KnownRelease(fileNames: ["afhqcats512-128.pkl"], what: "EG3D AFHQv2 cats 512² generator",
                     license: eg3dLicense, published: eg3dCatalog),
        // mybabyyh/Preim3D: LICENSE is MIT; its README links the checkpoint on Google Drive.
        KnownRelease(fileNames: ["preim3d_ffhq.pt"], what: "PREIM3D FFHQ inversion encoder (pSp WPlusEncoder)",
                     license: "MIT (mybabyyh/Preim3D)", published: "https://github.com/mybabyyh/Preim3D (README: Pretrained Models)"),
        // anantarb/triplanenet: LICENSE is MIT; its README links both checkpoints on Google Drive.
        KnownRelease(fileNames: ["triplanenet_v2_final.pth"], what: "TriPlaneNet v2 EG3D inversion encoder (pSp + tri-plane encoder)",
                     license: "MIT (anantarb/triplanenet)", published: "https://github.com/anantarb/triplanenet (README: Pretrained Models)"),
        // jiangyzy/GOAE has no LICENSE file; its README links the checkpoints on Google Drive.
        KnownRelease(fileNames: ["encoder_FFHQ.pt"], what: "GOAE EG3D inversion encoder (Swin-V2; its AFA module is afa_FFHQ.pt)",
                     license: "none stated (jiangyzy/GOAE has no LICENSE file: ask the authors before redistributing)",
                     published: "https://github.com/jiangyzy/GOAE (README: pretrained model checkpoint)"),
    ]

    public static func release(named fileName: String) -> KnownRelease? {
        all.first { $0.fileNames.contains(fileName) }
    }
}
