//! Routed pages.

mod dashboard;
mod home;

pub use dashboard::DashboardPage;
pub use home::HomePage;
