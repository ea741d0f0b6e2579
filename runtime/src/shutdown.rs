//! The shutdown signal every long-running Ward program waits for.

use std::future::Future;

/// Returns a future that completes on Ctrl-C (SIGINT) or SIGTERM (what systemd sends on
/// stop). The handlers are installed by this call, not at the first poll, so a signal
/// that arrives once the caller has announced readiness is never lost. Must be called
/// inside a Tokio runtime.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal as listen};
    let interrupt = listen(SignalKind::interrupt());
    let terminate = listen(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut i), Ok(mut t)) => {
                tokio::select! {
                    _ = i.recv() => {}
                    _ = t.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn completes_on_sigterm_sent_after_the_call() {
        let stop = signal();
        // The handler is installed by the call: a signal sent before the first poll counts.
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(std::time::Duration::from_secs(10), stop)
            .await
            .unwrap();
    }
}
