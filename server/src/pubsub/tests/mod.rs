//! Pub/sub behaviour, one file per area: delivery and close, topics and wildcards, the
//! Phoenix surface (unsubscribe, broadcast_from), overflow policies, try_broadcast, stats.

mod delivery;
mod overflow;
mod stats;
mod surface;
mod topics;
mod try_broadcast;

use super::*;

fn hub() -> PubSub<u32> {
    PubSub::new()
}

/// Subscribes to a valid pattern.
fn sub(ps: &PubSub<u32>, pattern: &str, config: SubscribeConfig) -> Subscription<u32> {
    ps.subscribe(pattern, config).expect("valid pattern")
}

/// Everything waiting in `s` now, flattened.
fn drain(s: &mut Subscription<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    while let Some(d) = s.try_recv() {
        got.extend(d.items);
    }
    got
}
