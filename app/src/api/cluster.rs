//! `/rpc/get_cluster`: the cluster view for the dashboard's Cluster tab (every node, their
//! ledgers and the total, the bus), read-only; `GET /api/cluster` answers the same as JSON.
//! `/rpc/control_all`: a control for every node (an operator's control).

use crate::error::AppError;
use crate::model::ClusterInfo;
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// The cluster as this node reads it from Redis now (embedded: this node alone); 503 when
/// Redis cannot be read.
#[server(prefix = "/rpc", endpoint = "get_cluster", output = Postcard)]
pub async fn get_cluster() -> Result<ClusterInfo, AppError> {
    super::answer(async move { super::backend()?.cluster().await }.await)
}

/// Applies a control to every node: `action` is `pause`, `resume`, `concurrency` (with
/// `value` processors), `rate` (with `value` messages per second) or `lift`. Resolves to how
/// many other nodes received it (0 embedded); each node's applied controls show in the
/// Cluster tab once its next heartbeat is read.
#[server(prefix = "/rpc", endpoint = "control_all", output = Postcard)]
pub async fn control_all(action: String, value: Option<u64>) -> Result<u64, AppError> {
    super::answer(async move { super::backend()?.control_all(action, value).await }.await)
}
