//! Endpoint strings as libzmq spells them: `tcp://host:port`, `ipc://path`.
//!
//! Parsing is pure (no name resolution): a host name stays a name until the driver
//! resolves it at connect time, so `connect` can succeed before the peer exists.

use std::fmt;
use std::path::PathBuf;

/// Why an endpoint string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// No `scheme://` prefix.
    #[error("endpoint {0:?} has no transport (expected tcp://, ipc:// or inproc://)")]
    MissingTransport(String),
    /// A scheme other than tcp, ipc or inproc.
    #[error("endpoint {0:?} uses an unsupported transport")]
    UnsupportedTransport(String),
    /// `tcp://` without `:port`.
    #[error("endpoint {0:?} has no port")]
    MissingPort(String),
    /// The port is not a number from 0 to 65535 (or `*`).
    #[error("endpoint {0:?} has an invalid port")]
    InvalidPort(String),
    /// The host part is empty or malformed (an unclosed `[`, for example).
    #[error("endpoint {0:?} has an invalid host")]
    InvalidHost(String),
    /// `ipc://` or `inproc://` with nothing after it.
    #[error("endpoint {0:?} has an empty address")]
    EmptyAddress(String),
    /// `*` (all interfaces) used with `connect`.
    #[error("endpoint {0:?}: cannot connect to a wildcard address")]
    WildcardConnect(String),
}

/// A parsed endpoint.
///
/// ```
/// use monocoque_zmtp::endpoint::Endpoint;
///
/// let ep: Endpoint = "tcp://*:5555".parse().unwrap();
/// assert_eq!(ep, Endpoint::Tcp { host: "*".into(), port: 5555 });
/// let v6: Endpoint = "tcp://[::1]:0".parse().unwrap();
/// assert_eq!(v6.to_string(), "tcp://[::1]:0");
/// assert!("udp://x:1".parse::<Endpoint>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// TCP: a host (name, IPv4, IPv6 without brackets, or `*` for every interface) and
    /// a port (0 asks the kernel for one when binding).
    Tcp {
        /// Host name or address; `*` binds every interface.
        host: String,
        /// Port; 0 (written `0` or `*`) picks an ephemeral port when binding.
        port: u16,
    },
    /// A Unix domain socket path.
    Ipc(PathBuf),
    /// An in-process endpoint name.
    Inproc(String),
}

impl Endpoint {
    /// Parses an endpoint string.
    pub fn parse(s: &str) -> Result<Endpoint, EndpointError> {
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(EndpointError::MissingTransport(s.into()));
        };
        match scheme {
            "tcp" => parse_tcp(s, rest),
            "ipc" if rest.is_empty() => Err(EndpointError::EmptyAddress(s.into())),
            "ipc" => Ok(Endpoint::Ipc(PathBuf::from(rest))),
            "inproc" if rest.is_empty() => Err(EndpointError::EmptyAddress(s.into())),
            "inproc" => Ok(Endpoint::Inproc(rest.into())),
            _ => Err(EndpointError::UnsupportedTransport(s.into())),
        }
    }

    /// Checks the endpoint can be used with `connect` (no wildcard host).
    pub fn for_connect(self, original: &str) -> Result<Endpoint, EndpointError> {
        match &self {
            Endpoint::Tcp { host, .. } if host == "*" => {
                Err(EndpointError::WildcardConnect(original.into()))
            }
            Endpoint::Tcp { port: 0, .. } => Err(EndpointError::InvalidPort(original.into())),
            _ => Ok(self),
        }
    }
}

fn parse_tcp(whole: &str, rest: &str) -> Result<Endpoint, EndpointError> {
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(EndpointError::MissingPort(whole.into()));
    };
    let port = match port {
        "*" | "!" => 0,
        p if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
            .parse::<u16>()
            .map_err(|_| EndpointError::InvalidPort(whole.into()))?,
        _ => return Err(EndpointError::InvalidPort(whole.into())),
    };
    let host = if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| EndpointError::InvalidHost(whole.into()))?;
        if inner.is_empty() || inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(EndpointError::InvalidHost(whole.into()));
        }
        inner
    } else {
        if host.is_empty() || host.contains([']', '[', '/', ' ']) {
            return Err(EndpointError::InvalidHost(whole.into()));
        }
        // A bare IPv6 address without brackets is ambiguous with the port separator.
        if host.contains(':') {
            return Err(EndpointError::InvalidHost(whole.into()));
        }
        host
    };
    Ok(Endpoint::Tcp {
        host: host.into(),
        port,
    })
}

impl std::str::FromStr for Endpoint {
    type Err = EndpointError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::parse(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Ipc(path) => write!(f, "ipc://{}", path.display()),
            Endpoint::Inproc(name) => write!(f, "inproc://{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn valid_endpoints() {
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:5555"),
            Ok(tcp("127.0.0.1", 5555))
        );
        assert_eq!(Endpoint::parse("tcp://*:5556"), Ok(tcp("*", 5556)));
        assert_eq!(
            Endpoint::parse("tcp://localhost:1"),
            Ok(tcp("localhost", 1))
        );
        assert_eq!(Endpoint::parse("tcp://[::1]:65535"), Ok(tcp("::1", 65535)));
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:*"),
            Ok(tcp("127.0.0.1", 0))
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:0"),
            Ok(tcp("127.0.0.1", 0))
        );
        assert_eq!(
            Endpoint::parse("ipc:///tmp/feeds/0"),
            Ok(Endpoint::Ipc("/tmp/feeds/0".into()))
        );
        assert_eq!(
            Endpoint::parse("inproc://a"),
            Ok(Endpoint::Inproc("a".into()))
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "tcp://127.0.0.1:5555",
            "tcp://[::1]:80",
            "ipc:///tmp/x",
            "inproc://n",
        ] {
            assert_eq!(Endpoint::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn specific_errors() {
        use EndpointError::*;
        type MakeError = fn(String) -> EndpointError;
        let cases: &[(&str, MakeError)] = &[
            ("127.0.0.1:5555", MissingTransport),
            ("udp://1.2.3.4:5", UnsupportedTransport),
            ("tcp://127.0.0.1", MissingPort),
            ("tcp://127.0.0.1:", InvalidPort),
            ("tcp://127.0.0.1:65536", InvalidPort),
            ("tcp://127.0.0.1:-1", InvalidPort),
            ("tcp://127.0.0.1:+80", InvalidPort),
            ("tcp://:5555", InvalidHost),
            ("tcp://[::1:5555", InvalidHost),
            ("tcp://[]:5555", InvalidHost),
            ("tcp://[nothex]:5555", InvalidHost),
            ("tcp://::1:5555", InvalidHost),
            ("ipc://", EmptyAddress),
            ("inproc://", EmptyAddress),
        ];
        for (s, make) in cases {
            assert_eq!(Endpoint::parse(s), Err(make(s.to_string())), "{s}");
        }
    }

    #[test]
    fn connect_refuses_wildcards() {
        let ep = Endpoint::parse("tcp://*:5555").unwrap();
        assert!(matches!(
            ep.for_connect("tcp://*:5555"),
            Err(EndpointError::WildcardConnect(_))
        ));
        let ep = Endpoint::parse("tcp://localhost:0").unwrap();
        assert!(ep.for_connect("tcp://localhost:0").is_err());
    }
}
