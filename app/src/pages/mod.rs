//! Routed pages.

mod dashboard;
mod home;

pub use dashboard::DashboardRoute;
pub use home::HomePage;
