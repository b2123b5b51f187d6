//! Which addresses a `tcp://` host stands for, as `ZMQ_IPV6` decides (libzmq's
//! `ip_resolver`).
//!
//! Off (the default): `*` is every IPv4 interface and a host name stands for its IPv4
//! addresses only. On: `*` is every interface of both families (`[::]` with
//! `IPV6_V6ONLY` off, so IPv4 clients connect too) and a host name stands for its
//! addresses of both families, in the resolver's order. A literal address is taken as
//! written, an IPv6 literal even with the option off: libzmq refuses it then, we keep
//! accepting it (docs/options.md lists the difference).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use compio::net::{TcpListener, ToSocketAddrsAsync};

/// The addresses `host` stands for; an error if none is of an allowed family.
pub(crate) async fn resolve(host: &str, port: u16, ipv6: bool) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found = (host, port).to_socket_addrs_async().await?;
    let kept = of_allowed_families(found, ipv6);
    if kept.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no IPv4 address (set the ipv6 option to use IPv6 ones)"),
        ));
    }
    Ok(kept)
}

/// Keeps IPv4 addresses, and IPv6 ones when `ipv6` is on.
fn of_allowed_families(found: impl Iterator<Item = SocketAddr>, ipv6: bool) -> Vec<SocketAddr> {
    found.filter(|address| ipv6 || address.is_ipv4()).collect()
}

/// A listening socket on `host`: `*` as the option decides, else the first address of
/// `host` that can be bound.
pub(crate) async fn listen(host: &str, port: u16, ipv6: bool) -> io::Result<TcpListener> {
    match host {
        "*" if ipv6 => listen_dual_stack(port),
        "*" => TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).await,
        _ => TcpListener::bind(&resolve(host, port, ipv6).await?[..]).await,
    }
}

/// Listens on `[::]` with `IPV6_V6ONLY` off, whatever the system's default
/// (`net.ipv6.bindv6only`), so IPv4 clients connect too (as IPv4-mapped addresses).
fn listen_dual_stack(port: u16) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(false)?;
    // As compio's own `bind`, and libzmq: a restarted server rebinds its port at once.
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)).into())?;
    socket.listen(128)?;
    TcpListener::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_ipv6_addresses_only_with_the_option() {
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 1));
        let found = || [v6, v4].into_iter();
        assert_eq!(of_allowed_families(found(), false), [v4]);
        assert_eq!(of_allowed_families(found(), true), [v6, v4]);
    }

    #[compio::test]
    async fn literals_are_taken_as_written_and_names_filtered() {
        // A literal is taken as written, whatever the option.
        let literal = resolve("::1", 7, false).await.unwrap();
        assert_eq!(literal, [SocketAddr::from((Ipv6Addr::LOCALHOST, 7))]);
        let v4 = resolve("localhost", 7, false).await.unwrap();
        assert!(v4.iter().all(SocketAddr::is_ipv4), "{v4:?}");
    }
}
