//! Routed pages.

mod home;

pub use home::HomePage;
