//! Which webhook addresses may be registered and reached: public addresses only (IPv6 forms that carry an IPv4
//! address included), checked when a webhook is registered and again before each attempt, and names resolved to
//! their public addresses only.

use super::*;

/// Most active webhooks one partner may have.
pub const MAX_PER_PARTNER: u64 = 10;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Accept URLs that resolve to loopback or private addresses (tests, closed networks); refused by default.
    pub allow_private: bool,
    /// Delay before the first retry; each further retry waits twice as long (at most an hour).
    pub retry_base: Duration,
    /// Longest one attempt may take.
    pub timeout: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_private: false,
            retry_base: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_attempts: 8,
        }
    }
}

impl Settings {
    /// The wait after a failed attempt (`attempts` made so far).
    pub(super) fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 20) as u32);
        self.retry_base.saturating_mul(factor).min(Duration::from_secs(3_600))
    }

    /// How long a process holds a delivery it attempts: after this, another process (or this one, restarted) may
    /// attempt it again.
    pub(super) fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(2)
    }
}

/// Whether an address is one a webhook may reach: not loopback, private, link-local, shared (CGNAT), multicast,
/// unspecified or reserved. An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible,
/// IPv4-translated, NAT64 and 6to4 forms) is judged by the IPv4 address it carries; Teredo, local-use NAT64,
/// site-local and discard-only addresses are never public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x2001 && s[1] == 0)
                || (s[0] == 0x0064 && s[1] == 0xff9b)
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]))
        }
    }
}

/// The IPv4 address an IPv6 address carries, in the forms whose traffic reaches that IPv4 address: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 with the
/// well-known prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let join = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match v6.segments() {
        [0, 0, 0, 0, 0, 0xffff, high, low]
        | [0, 0, 0, 0, 0, 0, high, low]
        | [0, 0, 0, 0, 0xffff, 0, high, low]
        | [0x0064, 0xff9b, 0, 0, 0, 0, high, low] => Some(join(high, low)),
        [0x2002, high, low, ..] => Some(join(high, low)),
        _ => None,
    }
}

/// Why an attempt must not be made to this URL: port 0, or (unless private addresses are allowed) a host that is a
/// literal address that is not public. Host names are checked when they resolve (see `PublicOnly`).
pub(super) fn unreachable_url(settings: &Settings, url: &reqwest::Url) -> Option<String> {
    if url.port() == Some(0) {
        return Some("port 0 cannot be reached".into());
    }
    if settings.allow_private {
        return None;
    }
    let host = url.host_str()?;
    let ip: IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    (!is_public(ip)).then(|| {
        format!("{ip} is a loopback, private or reserved address: webhooks are delivered to public addresses only")
    })
}

/// Checks a URL a partner registers: http or https, a host, no credentials, and (unless allowed) only public
/// addresses behind the host.
pub(super) async fn check_url(settings: &Settings, text: &str) -> ApiResult<reqwest::Url> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| ApiError::bad_input(format!("`url` is not a URL ({e}): give an absolute https URL")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(ApiError::bad_input(format!(
            "`url` must use https (or http), not `{}`",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::bad_input(
            "`url` must not carry credentials: receivers check the signature instead",
        ));
    }
    if text.len() > 2_000 {
        return Err(ApiError::bad_input("`url` is longer than 2,000 characters"));
    }
    let Some(host) = url.host_str() else {
        return Err(ApiError::bad_input("`url` has no host"));
    };
    if url.port() == Some(0) {
        return Err(ApiError::bad_input(
            "`url` names port 0, which cannot be reached: give the receiver's port, or none for the scheme's default",
        ));
    }
    if settings.allow_private {
        return Ok(url);
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| ApiError::bad_input(format!("the host `{host}` of `url` did not resolve in time")))?
            .map_err(|_| ApiError::bad_input(format!("the host `{host}` of `url` does not resolve")))?
            .collect();
    if addresses.is_empty() {
        return Err(ApiError::bad_input(format!(
            "the host `{host}` of `url` does not resolve"
        )));
    }
    if let Some(private) = addresses.iter().find(|a| !is_public(a.ip())) {
        return Err(ApiError::bad_input(format!(
            "the host `{host}` of `url` resolves to {}, a loopback, private or reserved address: webhooks are \
             delivered to public addresses only",
            private.ip()
        )));
    }
    Ok(url)
}

/// Resolves host names to their public addresses only, so that a name that resolves to a private address after it
/// was registered is not reached either. (A URL whose host is a literal address is not resolved: `unreachable_url`
/// checks it before each attempt.)
pub(super) struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
