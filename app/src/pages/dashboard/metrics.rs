//! Metrics tab: one chart per catalogue metric, grouped by area, drawn from the history rows.

use super::chart::MetricChart;
use super::state::DashState;
use crate::model::catalogue::{Area, CATALOGUE};
use leptos::prelude::*;

/// The metrics tab.
#[component]
pub fn MetricsTab(state: DashState) -> impl IntoView {
    Area::ALL
        .into_iter()
        .map(|area| {
            view! {
                <section class="panel" aria-label=area.label()>
                    <h2>{area.label()}</h2>
                    <div class="charts">
                        {CATALOGUE
                            .iter()
                            .filter(|m| m.area == area)
                            .map(|def| view! { <MetricChart def rows=state.rows/> })
                            .collect_view()}
                    </div>
                </section>
            }
        })
        .collect_view()
        .into_any()
}
