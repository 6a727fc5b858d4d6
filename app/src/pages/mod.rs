//! The pages, and which one an address shows.
//!
//! Each page is its own document: the server renders [`render`]`(`[`Page::requested`]`())` into
//! the shell, the browser hydrates the same root (see `crate::hydrate`). Links between pages are
//! plain links (a full load), so the browser needs no router.

mod dashboard;
mod home;

pub use dashboard::DashboardRoot;
#[cfg(feature = "hydrate")]
pub use dashboard::hydrate as hydrate_dashboard;
pub use home::HomePage;

use leptos::prelude::*;

/// The pages Pulse serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`: the live view of the pipeline.
    Live,
    /// `/dashboard`: the monitoring page.
    Dashboard,
    /// Any other address: a short "not found" page (HTTP 404).
    NotFound,
}

impl Page {
    /// The pages with an address of their own (the server registers these paths).
    pub const ROUTED: [Page; 2] = [Page::Live, Page::Dashboard];

    /// The page's path; `None` for the not-found page, which answers any other.
    pub fn path(self) -> Option<&'static str> {
        match self {
            Page::Live => Some("/"),
            Page::Dashboard => Some("/dashboard"),
            Page::NotFound => None,
        }
    }

    /// The page for a URL path (without its query).
    pub fn from_path(path: &str) -> Page {
        let path = if path.is_empty() { "/" } else { path };
        Page::ROUTED.into_iter().find(|p| p.path() == Some(path)).unwrap_or(Page::NotFound)
    }

    /// The page the request being rendered asked for (on the server; the browser hydrates from
    /// its address bar instead, see `crate::hydrate`).
    pub fn requested() -> Page {
        #[cfg(feature = "ssr")]
        if let Some(parts) = use_context::<http::request::Parts>() {
            return Page::from_path(parts.uri.path());
        }
        Page::NotFound
    }
}

/// The root view of `page`, as the server renders it inside `<body>`.
pub fn render(page: Page) -> AnyView {
    match page {
        Page::Live => view! { <LiveRoot/> }.into_any(),
        Page::Dashboard => view! { <DashboardRoot/> }.into_any(),
        Page::NotFound => view! { <NotFoundRoot/> }.into_any(),
    }
}

/// The frame every page shares: `<main>` with the hydration marker end-to-end tests wait for.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    // Effects run only in the browser, once hydrated: a test waits for this flag before clicking.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! { <main class="page" data-hydrated=move || hydrated.get().to_string()>{children()}</main> }
}

/// `/`, framed.
#[component]
pub fn LiveRoot() -> impl IntoView {
    view! { <Frame><HomePage/></Frame> }
}

/// Any unknown address says so (the server's fallback answers it with HTTP 404).
#[component]
pub fn NotFoundRoot() -> impl IntoView {
    view! {
        <Frame>
            <header class="top"><h1>"Pulse"</h1></header>
            <p>"Page not found. " <a href="/">"Go to the live page"</a> " or the " <a href="/dashboard">"dashboard"</a> "."</p>
        </Frame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_pages() {
        assert_eq!(Page::from_path("/"), Page::Live);
        assert_eq!(Page::from_path("/dashboard"), Page::Dashboard);
        assert_eq!(Page::from_path("/dashboard/x"), Page::NotFound);
        assert_eq!(Page::from_path("/nope"), Page::NotFound);
        assert_eq!(Page::from_path(""), Page::Live);
        for page in Page::ROUTED {
            assert_eq!(Page::from_path(page.path().expect("routed pages have a path")), page);
        }
    }
}
