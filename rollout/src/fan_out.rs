//! Work on many hosts at once: one connection per host, at most `forks` hosts at a time, results in
//! the hosts' order. `impact`, `snapshot` and `verify` use it; `run` and `push` stream their events
//! as hosts finish, over the same bounded fan-out (`buffer_unordered`).

use futures::StreamExt;

use crate::connection::{ConnectionSettings, HostConnection, Transport};

/// Runs `work` over a connection of its own to each host, at most `forks` hosts at once, and closes
/// the connection afterwards. A host that cannot be reached gives the connection's error instead.
pub async fn over_connections<T>(
    hosts: &[HostConnection],
    settings: &ConnectionSettings,
    forks: usize,
    work: impl AsyncFn(&Transport, &HostConnection) -> T,
) -> Vec<Result<T, String>> {
    let work = &work;
    let mut results: Vec<(usize, Result<T, String>)> =
        futures::stream::iter(hosts.iter().enumerate())
            .map(|(i, host)| async move {
                let result = match Transport::open(host, settings).await {
                    Ok(t) => {
                        let value = work(&t, host).await;
                        t.close().await;
                        Ok(value)
                    }
                    Err(e) => Err(e.to_string()),
                };
                (i, result)
            })
            .buffer_unordered(forks.max(1))
            .collect()
            .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
