//! The `Host` allow-list: which names (and ports) this server answers for.

use super::{Refusal, request_host};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

/// One allowed host: a name or IP address, with a port or (matching any port) without.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    /// Lower case; an IPv6 address keeps its brackets (`[::1]`).
    host: String,
    port: Option<u16>,
}

/// Why an `--allowed-hosts` entry does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostParseError {
    #[error("an empty host")]
    Empty,
    #[error("{0:?} is not a host or host:port (no scheme, path, user or spaces)")]
    NotAHost(String),
    #[error("{0:?} has a bad port (expected 1..=65535)")]
    BadPort(String),
    #[error("{0:?}: an IPv6 address goes in brackets, e.g. [::1]:3000")]
    UnbracketedIpv6(String),
}

impl FromStr for AllowedHost {
    type Err = HostParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(HostParseError::Empty);
        }
        if s.contains(|c: char| c.is_whitespace() || matches!(c, '/' | '@' | '?' | '#' | '\\')) {
            return Err(HostParseError::NotAHost(s.to_owned()));
        }
        let (host, port) = split_host_port(s).map_err(|e| match e {
            Split::Port => HostParseError::BadPort(s.to_owned()),
            Split::Ipv6 => HostParseError::UnbracketedIpv6(s.to_owned()),
            Split::Host => HostParseError::NotAHost(s.to_owned()),
        })?;
        if port == Some(0) {
            return Err(HostParseError::BadPort(s.to_owned()));
        }
        Ok(Self { host, port })
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{} (any port)", self.host),
        }
    }
}

/// What is wrong with a `host[:port]`.
#[derive(Debug)]
enum Split {
    Host,
    Port,
    Ipv6,
}

/// `host[:port]` into the lower-cased host (IPv6 in brackets) and the port, if any.
fn split_host_port(s: &str) -> Result<(String, Option<u16>), Split> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']').ok_or(Split::Host)?;
        let (host, rest) = s.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':').ok_or(Split::Host)?)),
        }
    } else {
        match s.split_once(':') {
            Some((_, rest)) if rest.contains(':') => return Err(Split::Ipv6),
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(Split::Host);
    }
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| Split::Port)?)
        }
        Some(_) => return Err(Split::Port),
        None => None,
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// The hosts this server answers for: the `--allowed-hosts` entries or, when none is given,
/// the listen address and the loopback names at its port. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AllowedHosts(Arc<[AllowedHost]>);

impl AllowedHosts {
    /// `configured`, or (if empty) the defaults for a server listening on `listen`.
    pub fn new(configured: &[AllowedHost], listen: SocketAddr) -> Self {
        if !configured.is_empty() {
            return Self(configured.into());
        }
        let port = Some(listen.port());
        let mut hosts: Vec<AllowedHost> = Vec::new();
        let listen_ip = match listen {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        for host in [listen_ip.as_str(), "localhost", "127.0.0.1", "[::1]"] {
            let entry = AllowedHost { host: host.to_owned(), port };
            if !hosts.contains(&entry) {
                hosts.push(entry);
            }
        }
        Self(hosts.into())
    }

    /// Whether a request whose `Host` header is `host` is answered. A `Host` without a port
    /// means port 80.
    pub fn allows(&self, host: &str) -> bool {
        let Ok((name, port)) = split_host_port(host.trim()) else { return false };
        let port = port.unwrap_or(80);
        self.0.iter().any(|a| a.host == name && a.port.is_none_or(|p| p == port))
    }
}

impl fmt::Display for AllowedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, h) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{h}")?;
        }
        Ok(())
    }
}

/// Middleware: 421 Misdirected Request unless the request's host is allowed.
pub(crate) async fn check_host(State(hosts): State<AllowedHosts>, req: Request, next: Next) -> Response {
    match request_host(&req) {
        Some(host) if hosts.allows(host) => next.run(req).await,
        host => Refusal::Misdirected(host.unwrap_or_default().to_owned()).into_response(),
    }
}
