//! The address a request comes from, for rate limits and the audit log.
//!
//! Behind a load balancer every request arrives from the balancer, which
//! names the client in `X-Forwarded-For`. Anyone can send that header, so it
//! is believed only from a peer listed in `server.trusted_proxies`, and read
//! from the right: each trusted hop appends the address it saw, so the
//! rightmost address that is not a trusted proxy is the client.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Some(from_chain(peer, forwarded, trusted))
}

fn from_chain<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A malformed entry ends the walk: what is left of it is not trusted.
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/16".parse().unwrap()];
        let chain = |peer: &str, header: &str| {
            from_chain(
                ip(peer),
                std::iter::once(header).filter(|h| !h.is_empty()),
                &trusted,
            )
        };
        // A client sending the header itself is not believed.
        assert_eq!(chain("203.0.113.9", "1.2.3.4"), ip("203.0.113.9"));
        // Through the balancer: the address it appended.
        assert_eq!(chain("10.0.1.5", "198.51.100.7"), ip("198.51.100.7"));
        // A spoofed entry to the left of the real one is ignored.
        assert_eq!(
            chain("10.0.1.5", "1.2.3.4, 198.51.100.7"),
            ip("198.51.100.7")
        );
        // Two trusted hops: skip both.
        assert_eq!(
            chain("10.0.1.5", "198.51.100.7, 10.0.2.2"),
            ip("198.51.100.7")
        );
        // No header: the balancer itself.
        assert_eq!(chain("10.0.1.5", ""), ip("10.0.1.5"));
        // Garbage stops the walk at the last good address.
        assert_eq!(chain("10.0.1.5", "nonsense"), ip("10.0.1.5"));
    }
}
