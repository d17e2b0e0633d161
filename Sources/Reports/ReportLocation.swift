import Foundation

/// Where a clip's report lives beside its video: `out/clip.mp4` → `out/clip.report.html`. Avatar jobs write it
/// there and the dashboard finds it there from the job's output, so the job record needs no extra column.
public enum ReportLocation {
    public static func forOutput(_ output: String) -> URL {
        let url = URL(fileURLWithPath: output)
        return url.deletingPathExtension().appendingPathExtension("report.html")
    }
}
