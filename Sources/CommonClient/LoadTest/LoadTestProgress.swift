import Foundation

/// Prints the load test's progress on stderr until cancelled: done/total, the
/// rate over the last interval, errors and 422 retries. On a terminal one line is
/// redrawn in place; otherwise a plain line is printed every interval.
struct LoadTestProgress: Sendable {
    let mode: LoadTestConfiguration.Progress
    let total: Int

    func run(_ recorder: LoadTestRecorder) async {
        let interval: Duration
        switch mode {
        case .none: return
        case .live: interval = .milliseconds(250)
        case .lines(let every): interval = every
        }
        let clock = ContinuousClock()
        let start = clock.now
        var lastTime = start
        var lastDone = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = clock.now
            let snapshot = recorder.snapshot()
            let rate = Double(snapshot.done - lastDone) / max((now - lastTime).seconds, 1e-9)
            lastTime = now
            lastDone = snapshot.done
            print(line(snapshot, rate: rate, elapsed: (now - start).seconds))
        }
        if mode == .live { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func line(_ snapshot: LoadTestRecorder.Snapshot, rate: Double, elapsed: Double) -> String {
        let percent = total == 0 ? 100 : snapshot.done * 100 / total
        return String(
            format: "%d/%d (%d%%)  %.0f req/s  %d errors  %d not-yet-replicated retries  %.1f s",
            snapshot.done, total, percent, rate, snapshot.failed, snapshot.notYetReplicated, elapsed
        )
    }

    private func print(_ text: String) {
        let output = mode == .live ? "\r\u{1B}[K" + text : text + "\n"
        FileHandle.standardError.write(Data(output.utf8))
    }
}
