//! Pipeline tab: the running topology drawn as a graph (producer → processors → batchers →
//! batch processors). Each node is coloured by its busy ratio, as broadway_dashboard does, and
//! labelled with what it lacks: msg/s, p99 run time, queue depth, and restarts.

use super::chart::short;
use super::state::DashState;
use crate::model::{StageRole, StageStats, StatsSnapshot};
use leptos::prelude::*;

const COL_W: f64 = 235.0;
const NODE_W: f64 = 205.0;
const NODE_H: f64 = 66.0;
const ROW_H: f64 = 80.0;

/// Column of the graph a role is drawn in.
fn column(role: StageRole) -> usize {
    match role {
        StageRole::Producer => 0,
        StageRole::Processor => 1,
        StageRole::Batcher => 2,
        StageRole::BatchProcessor => 3,
    }
}

/// Busy share (0..=100 %) as a fill: green when idle, through yellow, to red when saturated.
pub fn busy_colour(busy_pct: f64) -> String {
    let b = (busy_pct / 100.0).clamp(0.0, 1.0);
    format!("hsl({:.0}, 70%, 42%)", 120.0 * (1.0 - b))
}

/// Whether an edge joins `from` to `to`: every stage feeds the next column, except that batch
/// processors hang only off their own batcher.
fn joined(from: &StageStats, to: &StageStats) -> bool {
    if column(to.role()) != column(from.role()) + 1 {
        return false;
    }
    match (from.role(), to.role()) {
        (StageRole::Batcher, StageRole::BatchProcessor) => from.stage.batcher == to.stage.batcher,
        _ => true,
    }
}

/// Each stage with its position: (stage, x, y).
fn layout(stats: &StatsSnapshot) -> Vec<(StageStats, f64, f64)> {
    let mut rows = [0usize; 4];
    stats
        .pipeline
        .stages
        .iter()
        .map(|s| {
            let c = column(s.role());
            let y = 10.0 + rows[c] as f64 * ROW_H;
            rows[c] += 1;
            (s.clone(), 10.0 + c as f64 * COL_W, y)
        })
        .collect()
}

/// The pipeline tab.
#[component]
pub fn PipelineTab(state: DashState) -> impl IntoView {
    let graph = move || {
        state.stats.with(|stats| {
            let nodes = layout(stats);
            if nodes.is_empty() {
                return view! { <p class="muted">"No pipeline is running."</p> }.into_any();
            }
            let height = nodes.iter().fold(0.0_f64, |h, n| h.max(n.2)) + NODE_H + 20.0;
            let edges = nodes
                .iter()
                .flat_map(|a| nodes.iter().filter(|b| joined(&a.0, &b.0)).map(move |b| (a.1 + NODE_W, a.2 + NODE_H / 2.0, b.1, b.2 + NODE_H / 2.0)))
                .map(|(x1, y1, x2, y2)| view! { <line class="edge" x1=x1 y1=y1 x2=x2 y2=y2/> })
                .collect_view();
            let boxes = nodes.into_iter().map(|(s, x, y)| node(s, x, y)).collect_view();
            view! {
                <svg class="topology" viewBox=format!("0 0 {} {height}", 4.0 * COL_W + 10.0) role="img" aria-label="Pipeline topology">
                    {edges}
                    {boxes}
                </svg>
            }
            .into_any()
        })
    };
    let producer = move || state.stats.with(|s| s.pipeline.topology.producer.clone());
    view! {
        <section class="panel" aria-label="Topology">
            <h2>"Topology"</h2>
            <p class="muted">"Producer: " {producer} " · colour: busy share of the last second (green idle, red saturated)"</p>
            {graph}
        </section>
    }
    .into_any()
}

fn node(s: StageStats, x: f64, y: f64) -> impl IntoView {
    let title = format!(
        "{}: {} msg/s, busy {:.0} %, p99 {} µs, queue {}, restarts {}",
        s.name,
        short(s.per_s),
        s.busy_pct,
        short(s.run_p99_us),
        s.queue,
        s.restarts
    );
    view! {
        <g class="node" data-testid="stage-node" data-stage=s.name.clone() data-busy=format!("{:.0}", s.busy_pct)>
            <title>{title}</title>
            <rect x=x y=y width=NODE_W height=NODE_H rx="8" fill=busy_colour(s.busy_pct)/>
            <text x=x + 8.0 y=y + 18.0 class="node-name">{s.name.clone()}</text>
            <text x=x + 8.0 y=y + 36.0>{format!("{} msg/s · p99 {} µs", short(s.per_s), short(s.run_p99_us))}</text>
            <text x=x + 8.0 y=y + 54.0>{format!("queue {} · busy {:.0}% · restarts {}", s.queue, s.busy_pct, s.restarts)}</text>
        </g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(role: StageRole, batcher: Option<&str>) -> StageStats {
        let stage = crate::model::StageKey { role, index: 0, batcher: batcher.map(Into::into) };
        StageStats { name: stage.label(), stage, ..Default::default() }
    }

    #[test]
    fn batch_processors_hang_off_their_own_batcher() {
        let b = stage(StageRole::Batcher, Some("default"));
        assert!(joined(&b, &stage(StageRole::BatchProcessor, Some("default"))));
        assert!(!joined(&b, &stage(StageRole::BatchProcessor, Some("other"))));
        assert!(joined(&stage(StageRole::Producer, None), &stage(StageRole::Processor, None)));
        assert!(!joined(&stage(StageRole::Producer, None), &b));
    }

    #[test]
    fn colours_go_from_green_to_red() {
        assert_eq!(busy_colour(0.0), "hsl(120, 70%, 42%)");
        assert_eq!(busy_colour(100.0), "hsl(0, 70%, 42%)");
        assert_eq!(busy_colour(250.0), "hsl(0, 70%, 42%)");
    }
}
