//! The client's address behind a reverse proxy, for the per-address limits.
//!
//! Behind a load balancer every connection comes from the balancer, so
//! limits keyed on the socket's address would put every client in one
//! bucket. The balancer names the client in a header; but a header is
//! something any client can send, so it is believed only from a peer named
//! in `MERCHANT_TRUSTED_PROXIES`, and only in the one header those proxies
//! write (`MERCHANT_FORWARDED_HEADER`): a proxy that appends to
//! `X-Forwarded-For` passes a client's own `Forwarded` through untouched.
//!
//! Proxies append the address they received from, so the chain is read
//! from the right: past every trusted hop, the first address is the
//! client's (RFC 7239 §5.2, and the same rule for `X-Forwarded-For`).
//! Everything to its left was written by the client and is ignored.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::api::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::FORWARDED;
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use forwarded_header_value::ForwardedHeaderValue;
use ipnet::IpNet;

/// The header the trusted proxies append the client's address to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx, HAProxy, most balancers).
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl std::str::FromStr for ForwardedHeader {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!("{name:?} is not x-forwarded-for or forwarded")),
        }
    }
}

/// The proxies whose word on the client's address is taken.
#[derive(Clone, Debug)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Trusts no one: the socket's address is the client's (the default).
    pub fn none() -> Self {
        Self {
            networks: Vec::new(),
            header: ForwardedHeader::XForwardedFor,
        }
    }

    /// A comma-separated list of addresses (`10.0.0.2`) and CIDR ranges
    /// (`10.0.0.0/8`, `fd00::/8`); an entry that is neither is an error.
    pub fn parse(list: &str, header: ForwardedHeader) -> Result<Self, String> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not an address or a CIDR range"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks, header })
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d.
        let address = address.to_canonical();
        self.networks.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let name: HeaderName = match self.header {
            ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            ForwardedHeader::Forwarded => FORWARDED,
        };
        // Several header lines are one list, in order (RFC 9110 §5.3).
        let hops: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match self.hop_address(hop) {
                Some(address) if self.trusts(address) => client = address,
                Some(address) => return address,
                // "unknown", an obfuscated name or garbage, written by a
                // trusted hop: nothing further left can be believed, so
                // the last trusted hop stands for the client.
                None => return client,
            }
        }
        client
    }

    fn hop_address(&self, hop: &str) -> Option<IpAddr> {
        let parsed = match self.header {
            ForwardedHeader::XForwardedFor => {
                ForwardedHeaderValue::from_x_forwarded_for(hop.trim())
            }
            ForwardedHeader::Forwarded => ForwardedHeaderValue::from_forwarded(hop.trim()),
        };
        parsed.ok()?.proximate_forwarded_for_ip()
    }
}

/// Puts the client's address ([`ClientAddress`]) in the request for the
/// server functions' limits. Needs the socket's address
/// (`into_make_service_with_connect_info::<SocketAddr>`).
pub async fn resolve(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(&ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(proxies: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> String {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        proxies.client(peer.parse().unwrap(), &map).to_string()
    }

    fn trusting(list: &str, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::parse(list, header).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let proxies = trusting("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let said = [("x-forwarded-for", "192.0.2.1")];
        assert_eq!(client(&proxies, "203.0.113.9", &said), "203.0.113.9");
        assert_eq!(
            client(&TrustedProxies::none(), "10.0.0.2", &said),
            "10.0.0.2"
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = trusting("10.0.0.0/8, 192.168.1.5", ForwardedHeader::XForwardedFor);
        // The client forged the left-most entry; two trusted hops follow.
        let chain = [("x-forwarded-for", "1.1.1.1, 198.51.100.7, 192.168.1.5")];
        assert_eq!(client(&proxies, "10.0.0.2", &chain), "198.51.100.7");
        // Split over two header lines, the same list.
        let lines = [
            ("x-forwarded-for", "1.1.1.1, 198.51.100.7"),
            ("x-forwarded-for", "192.168.1.5"),
        ];
        assert_eq!(client(&proxies, "10.0.0.2", &lines), "198.51.100.7");
        // Every hop trusted: the left-most of them.
        let inside = [("x-forwarded-for", "10.1.1.1, 192.168.1.5")];
        assert_eq!(client(&proxies, "10.0.0.2", &inside), "10.1.1.1");
        // No header: the proxy itself.
        assert_eq!(client(&proxies, "10.0.0.2", &[]), "10.0.0.2");
        // Garbage written by the client, left of its real address: ignored.
        let garbage = [("x-forwarded-for", "<script>, 198.51.100.7")];
        assert_eq!(client(&proxies, "10.0.0.2", &garbage), "198.51.100.7");
        // Unreadable right after a trusted hop: the last trusted hop.
        let unreadable = [("x-forwarded-for", "198.51.100.7, nonsense, 192.168.1.5")];
        assert_eq!(client(&proxies, "10.0.0.2", &unreadable), "192.168.1.5");
    }

    #[test]
    fn forwarded_is_read_per_rfc_7239_and_only_when_configured() {
        let proxies = trusting("10.0.0.0/8", ForwardedHeader::Forwarded);
        let headers = [
            (
                "forwarded",
                r#"for="[2001:db8::7]:4711";proto=https, for=10.0.0.3"#,
            ),
            ("x-forwarded-for", "192.0.2.66"),
        ];
        assert_eq!(client(&proxies, "10.0.0.2", &headers), "2001:db8::7");
        let xff = trusting("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        assert_eq!(client(&xff, "10.0.0.2", &headers), "192.0.2.66");
        let unknown = [("forwarded", "for=unknown")];
        assert_eq!(client(&proxies, "10.0.0.2", &unknown), "10.0.0.2");
    }

    #[test]
    fn an_ipv4_proxy_on_a_dual_stack_socket_is_still_trusted() {
        let proxies = trusting("10.0.0.2", ForwardedHeader::XForwardedFor);
        let said = [("x-forwarded-for", "192.0.2.1")];
        assert_eq!(client(&proxies, "::ffff:10.0.0.2", &said), "192.0.2.1");
    }

    #[test]
    fn a_list_with_anything_but_addresses_and_ranges_is_refused() {
        let header = ForwardedHeader::XForwardedFor;
        assert!(TrustedProxies::parse("10.0.0.0/8,fd00::/8, 127.0.0.1 ,", header).is_ok());
        let error = TrustedProxies::parse("10.0.0.0/8, proxy.internal", header).unwrap_err();
        assert!(error.contains("proxy.internal"), "{error}");
        assert!(TrustedProxies::parse("10.0.0.0/33", header).is_err());
        assert!("X-Forwarded-For".parse::<ForwardedHeader>().is_ok());
        assert!("x-real-ip".parse::<ForwardedHeader>().is_err());
    }
}
