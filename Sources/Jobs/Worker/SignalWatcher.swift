import Dispatch
import Foundation

/// Turns SIGTERM/SIGINT into a graceful shutdown: the first signal stops claiming and lets running jobs finish for
/// up to `grace` seconds, after which (or at a second signal) running jobs are stopped and released.
public final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "avatarize.worker.signals")
    private var received = 0

    public init(stop: StopSignal, grace: TimeInterval, onSignal: @escaping @Sendable (Int32, StopSignal.Level) -> Void = { _, _ in }) {
        for number in [SIGTERM, SIGINT] {
            // The default action would kill the process before the handler runs; ignoring hands it to the source.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [unowned self] in
                received += 1
                if received == 1 {
                    stop.raise(to: .draining)
                    onSignal(number, .draining)
                    queue.asyncAfter(deadline: .now() + grace) {
                        stop.raise(to: .abort)
                    }
                } else {
                    stop.raise(to: .abort)
                    onSignal(number, .abort)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
