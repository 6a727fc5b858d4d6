//! `/rpc/get_cluster`: the cluster view for the dashboard's Cluster tab (every node, their
//! ledgers and the total, the bus). Read-only; `GET /api/cluster` answers the same as JSON.

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
