//! ansible.utils's IP address filters (`ansible.utils.ipaddr`, `ipv4`, `ipv6`, `ipwrap`, `ipmath`, `nthhost`,
//! `ipsubnet`, `network_in_network`, `network_in_usable`), with netaddr's semantics as the
//! collection's own code gives them (checked against it: templates/tests/fixtures). A value is an
//! address and a prefix (`192.0.2.5/24` is both a host and its network), as netaddr's IPNetwork.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

/// An address with its prefix length, as netaddr's IPNetwork.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    /// 4 or 6.
    v6: bool,
    ip: u128,
    prefix: u32,
}

impl Net {
    fn width(self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }

    fn hostmask(self) -> u128 {
        let bits = self.width() - self.prefix;
        if bits >= 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        }
    }

    fn netmask(self) -> u128 {
        let all = if self.v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        };
        all & !self.hostmask()
    }

    fn network(self) -> u128 {
        self.ip & self.netmask()
    }

    fn last(self) -> u128 {
        self.network() | self.hostmask()
    }

    /// How many addresses (saturating for a whole IPv6 space).
    fn size(self) -> u128 {
        self.hostmask().saturating_add(1)
    }

    /// netaddr has no broadcast address for a /31, /32, /127 or /128.
    fn broadcast(self) -> Option<u128> {
        (self.width() - self.prefix > 1).then(|| self.last())
    }

    fn text(self, value: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(value).to_string()
        } else {
            Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)).to_string()
        }
    }

    fn with_prefix(self, value: u128) -> String {
        format!("{}/{}", self.text(value), self.prefix)
    }

    fn contains(self, other: Net) -> bool {
        self.v6 == other.v6
            && other.prefix >= self.prefix
            && other.network() & self.netmask() == self.network()
    }
}

/// A value as netaddr's IPNetwork reads it, and whether it was written as a network (`a/b`).
fn parse(text: &str) -> Option<(Net, bool)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let (v6, ip) = match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    };
    let width = if v6 { 128 } else { 32 };
    let prefix = match prefix {
        None => width,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
            p.parse().ok().filter(|n| *n <= width)?
        }
        // A netmask (255.255.255.0) or, as netaddr also takes, a hostmask (0.0.0.255).
        Some(p) if !v6 => {
            let mask = u32::from(p.parse::<Ipv4Addr>().ok()?);
            let ones = mask.leading_ones();
            if mask == u32::MAX.checked_shl(32 - ones).unwrap_or(0) {
                ones
            } else if (!mask).leading_ones() + mask.trailing_ones() == 32 {
                (!mask).leading_ones()
            } else {
                return None;
            }
        }
        Some(_) => return None,
    };
    Some((Net { v6, ip, prefix }, text.contains('/')))
}

/// A value the filters take: a string, or a whole number (an IPv4 address if it fits, else IPv6;
/// always IPv6 for `ipv6`, as `want_v6` says).
fn read_as(value: &Value, want_v6: bool) -> Option<(Net, bool)> {
    match value.kind() {
        ValueKind::Number => {
            let n = u128::try_from(value.clone()).ok()?;
            let v6 = want_v6 || n > u128::from(u32::MAX);
            Some((
                Net {
                    v6,
                    ip: n,
                    prefix: if v6 { 128 } else { 32 },
                },
                false,
            ))
        }
        ValueKind::String => {
            let text = value.as_str()?;
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                return read_as(&Value::from(text.parse::<u128>().ok()?), want_v6);
            }
            parse(text)
        }
        _ => None,
    }
}

fn read(value: &Value) -> Option<(Net, bool)> {
    read_as(value, false)
}

fn in_any(ip: Net, nets: &[&str]) -> bool {
    nets.iter().filter_map(|n| parse(n)).any(|(n, _)| {
        n.contains(Net {
            prefix: ip.width(),
            ..ip
        })
    })
}

const V4_NOT_GLOBAL: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.170/31",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
];
const V4_GLOBAL_EXCEPTIONS: &[&str] = &["192.0.0.9/32", "192.0.0.10/32"];
const V6_NOT_GLOBAL: &[&str] = &[
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
];
const V6_GLOBAL_EXCEPTIONS: &[&str] = &[
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:20::/28",
    "2001:30::/28",
];

/// netaddr's `is_global` of the address.
fn is_global(n: Net) -> bool {
    let (not, except) = if n.v6 {
        (V6_NOT_GLOBAL, V6_GLOBAL_EXCEPTIONS)
    } else {
        (V4_NOT_GLOBAL, V4_GLOBAL_EXCEPTIONS)
    };
    !in_any(n, not) || in_any(n, except)
}

fn is_multicast(n: Net) -> bool {
    let net = if n.v6 { "ff00::/8" } else { "224.0.0.0/4" };
    parse(net).is_some_and(|(m, _)| m.contains(n))
}

fn is_loopback(n: Net) -> bool {
    in_any(n, if n.v6 { &["::1/128"] } else { &["127.0.0.0/8"] })
}

/// A whole number that may be beyond 64 bits (an IPv6 /64 has 2^64 addresses): such a number
/// cannot reach the printed data, its digits can, and they are what a template prints.
fn big(n: u128) -> Value {
    u64::try_from(n).map_or_else(|_| Value::from(n.to_string()), Value::from)
}

fn none() -> Value {
    Value::from(())
}

fn not_network() -> Error {
    Error::new(ErrorKind::InvalidOperation, "Not a network address")
}

/// The first and last usable addresses (netaddr's `_first_last`).
fn usable(n: Net) -> Option<(u128, u128)> {
    match n.size() {
        2 => Some((n.network(), n.last())),
        s if s > 1 => Some((n.network() + 1, n.last() - 1)),
        _ => None,
    }
}

/// `ipaddr(query)` on one value; `version` is 4 or 6 for `ipv4`/`ipv6`. False when the value is
/// not an address or network of that version.
fn one(value: &Value, query: &str, version: Option<bool>, alias: &str) -> Result<Value, Error> {
    let truthy = !value.is_undefined() && !value.is_none() && value.is_true();
    if !truthy || value.kind() == ValueKind::Bool {
        return Ok(Value::from(false));
    }
    let Some((v, is_network)) = read_as(value, version == Some(true)) else {
        return Ok(Value::from(false));
    };
    let vtype_network = is_network;
    // A query that is a network: is the value inside it?
    if !query.is_empty()
        && !KNOWN.contains(&query)
        && !query.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && let Some((net, _)) = parse(query)
    {
        if version.is_some_and(|six| six != v.v6) {
            return Ok(Value::from(false));
        }
        return Ok(if net.contains(v) {
            value.clone()
        } else {
            none()
        });
    }
    if version.is_some_and(|six| six != v.v6) {
        return Ok(Value::from(false));
    }
    let s = |t: String| Ok(Value::from(t));
    let ip_ne_network = v.ip != v.network();
    match query {
        "" => s(if vtype_network {
            v.with_prefix(v.ip)
        } else {
            v.text(v.ip)
        }),
        "address" | "ip" => {
            if v.size() == 1 || ip_ne_network || v.broadcast().is_none() || v.v6 {
                s(v.text(v.ip))
            } else {
                Ok(none())
            }
        }
        "address/prefix" | "gateway" | "gw" | "host/prefix" | "hostnet" | "router" => {
            if v.size() > 2 && (v.ip == v.network() || Some(v.ip) == v.broadcast()) {
                Ok(Value::from(false))
            } else {
                s(v.with_prefix(v.ip))
            }
        }
        "bool" => Ok(Value::from(true)),
        "broadcast" => match v.broadcast().filter(|_| v.size() > 2) {
            Some(b) => s(v.text(b)),
            None => Ok(none()),
        },
        "cidr" => s(v.with_prefix(v.ip)),
        "first_usable" | "last_usable" | "next_usable" | "previous_usable" | "range_usable"
            if !vtype_network =>
        {
            Err(not_network())
        }
        "first_usable" => match usable(v) {
            Some((first, _)) => s(v.text(first)),
            None => Ok(none()),
        },
        "last_usable" => match usable(v) {
            Some((_, last)) => s(v.text(last)),
            None => Ok(none()),
        },
        "next_usable" => match usable(v) {
            Some((first, last)) if (first..=last).contains(&(v.ip + 1)) => s(v.text(v.ip + 1)),
            _ => Ok(none()),
        },
        "previous_usable" => match usable(v) {
            Some((first, last)) if v.ip > 0 && (first..=last).contains(&(v.ip - 1)) => {
                s(v.text(v.ip - 1))
            }
            _ => Ok(none()),
        },
        "range_usable" => match usable(v) {
            Some((first, last)) => s(format!("{}-{}", v.text(first), v.text(last))),
            None => Ok(none()),
        },
        "host" => {
            if v.size() == 1 || ip_ne_network || v.broadcast().is_none() {
                s(v.with_prefix(v.ip))
            } else {
                Ok(none())
            }
        }
        "hostmask" | "wildcard" => s(v.text(v.hostmask())),
        "int" => Ok(if vtype_network {
            Value::from(format!("{}/{}", v.ip, v.prefix))
        } else {
            big(v.ip)
        }),
        "ip/prefix" | "ip_netmask" => {
            let fits = v.size() == 2 || (v.size() > 1 && ip_ne_network);
            match (fits, query) {
                (false, _) => Ok(none()),
                (true, "ip/prefix") => s(v.with_prefix(v.ip)),
                (true, _) => s(format!("{} {}", v.text(v.ip), v.text(v.netmask()))),
            }
        }
        "ipv4" | "v4" => {
            if !v.v6 {
                return Ok(value.clone());
            }
            // An IPv4-mapped (::ffff:a.b.c.d) or compatible address becomes IPv4.
            let mapped = v.ip >> 32 == 0xffff || v.ip >> 32 == 0;
            if mapped && v.prefix >= 96 {
                let four = Net {
                    v6: false,
                    ip: v.ip & u128::from(u32::MAX),
                    prefix: v.prefix - 96,
                };
                s(four.with_prefix(four.ip))
            } else {
                Ok(Value::from(false))
            }
        }
        "ipv6" | "v6" => {
            if v.v6 {
                return Ok(value.clone());
            }
            let six = Net {
                v6: true,
                ip: 0xffff_u128 << 32 | v.ip,
                prefix: v.prefix + 96,
            };
            s(six.with_prefix(six.ip))
        }
        "link-local" => {
            let net = if v.v6 { "fe80::/10" } else { "169.254.0.0/16" };
            Ok(if in_any(v, &[net]) {
                value.clone()
            } else {
                none()
            })
        }
        "lo" | "loopback" => Ok(if is_loopback(v) {
            value.clone()
        } else {
            none()
        }),
        "multicast" => Ok(if is_multicast(v) {
            value.clone()
        } else {
            none()
        }),
        "unicast" => Ok(if is_multicast(v) {
            none()
        } else {
            value.clone()
        }),
        "net" => {
            if v.size() > 1 && !ip_ne_network {
                s(v.with_prefix(v.network()))
            } else {
                Ok(none())
            }
        }
        "netmask" => s(v.text(v.netmask())),
        "network" | "network_id" => s(v.text(v.network())),
        "network/prefix" | "subnet" => s(v.with_prefix(v.network())),
        "network_netmask" => s(format!("{} {}", v.text(v.network()), v.text(v.netmask()))),
        "network_wildcard" => s(format!("{} {}", v.text(v.network()), v.text(v.hostmask()))),
        "prefix" => Ok(Value::from(v.prefix)),
        "private" => Ok(if is_global(v) { none() } else { value.clone() }),
        "public" => {
            let ip = v.ip;
            let all = if v.v6 {
                u128::MAX
            } else {
                u128::from(u32::MAX)
            };
            let netmask = ((ip ^ all).wrapping_add(1)) & (ip ^ all) == 0;
            let hostmask = ip.wrapping_add(1) & ip == 0;
            let public = !is_multicast(Net {
                prefix: v.width(),
                ..v
            }) && is_global(v)
                && !is_loopback(v)
                && !netmask
                && !hostmask;
            Ok(if public { value.clone() } else { none() })
        }
        "revdns" => s(revdns(v)),
        // Beyond 64 bits (an IPv6 /64 has 2^64 addresses) a number cannot reach the printed
        // data; its digits can, which is what a template prints.
        "size" => {
            Ok(u64::try_from(v.size())
                .map_or_else(|_| Value::from(v.size().to_string()), Value::from))
        }
        "size_usable" => Ok(big(match v.size() {
            1 => 0,
            2 => 2,
            n => n - 2,
        })),
        "type" => s(if v.size() > 1 && !ip_ne_network {
            "network"
        } else {
            "address"
        }
        .into()),
        "version" => Ok(Value::from(if v.v6 { 6 } else { 4 })),
        "wrap" => Ok(match (v.v6, vtype_network) {
            (false, _) => value.clone(),
            (true, false) => Value::from(format!("[{}]", v.text(v.ip))),
            (true, true) => Value::from(format!("[{}]/{}", v.text(v.ip), v.prefix)),
        }),
        index if index.parse::<i128>().is_ok() => {
            let n: i128 = index.parse().unwrap_or(0);
            if v.size() == 1 {
                return s(if vtype_network {
                    v.with_prefix(v.ip)
                } else {
                    v.text(v.ip)
                });
            }
            let size = i128::try_from(v.size()).unwrap_or(i128::MAX);
            let at = if n < 0 { size + n } else { n };
            if (0..size).contains(&at) {
                s(v.with_prefix(v.network() + at as u128))
            } else {
                Ok(Value::from(false))
            }
        }
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{alias}: unknown filter type: {other}"),
        )),
    }
}

/// The queries `ipaddr` knows by name (anything else that is a network is a containment test).
const KNOWN: &[&str] = &[
    "",
    "address",
    "address/prefix",
    "bool",
    "broadcast",
    "cidr",
    "first_usable",
    "gateway",
    "gw",
    "host",
    "host/prefix",
    "hostmask",
    "hostnet",
    "int",
    "ip",
    "ip/prefix",
    "ip_netmask",
    "ipv4",
    "ipv6",
    "last_usable",
    "link-local",
    "lo",
    "loopback",
    "multicast",
    "net",
    "next_usable",
    "netmask",
    "network",
    "network_id",
    "network/prefix",
    "network_netmask",
    "network_wildcard",
    "prefix",
    "previous_usable",
    "private",
    "public",
    "range_usable",
    "revdns",
    "router",
    "size",
    "size_usable",
    "subnet",
    "type",
    "unicast",
    "v4",
    "v6",
    "version",
    "wildcard",
    "wrap",
];

fn revdns(v: Net) -> String {
    if v.v6 {
        let hex = format!("{:032x}", v.ip);
        let nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
        format!("{}.ip6.arpa.", nibbles.join("."))
    } else {
        let o = Ipv4Addr::from(u32::try_from(v.ip).unwrap_or(0)).octets();
        format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
    }
}

/// The query argument as text (a number query is its digits).
fn query_text(query: Option<Value>) -> String {
    match query {
        None => String::new(),
        Some(q) if q.is_none() => String::new(),
        Some(q) => q.as_str().map_or_else(|| q.to_string(), str::to_string),
    }
}

/// ipaddr over a value or a list (a list keeps the items whose result is true).
fn over(value: &Value, query: &str, version: Option<bool>, alias: &str) -> Result<Value, Error> {
    if value.kind() == ValueKind::Seq {
        let mut kept = Vec::new();
        for item in value.try_iter()? {
            let r = one(&item, query, version, alias)?;
            if r.is_true() {
                kept.push(r);
            }
        }
        return Ok(Value::from(kept));
    }
    one(value, query, version, alias)
}

fn ipaddr(value: Value, query: Option<Value>) -> Result<Value, Error> {
    over(&value, &query_text(query), None, "ipaddr")
}

fn ipv4(value: Value, query: Option<Value>) -> Result<Value, Error> {
    over(&value, &query_text(query), Some(false), "ipv4")
}

fn ipv6(value: Value, query: Option<Value>) -> Result<Value, Error> {
    over(&value, &query_text(query), Some(true), "ipv6")
}

fn ipwrap(value: Value, query: Option<Value>) -> Result<Value, Error> {
    let query = query_text(query);
    let wrap = |item: &Value| -> Result<Value, Error> {
        if one(item, &query, None, "ipwrap")?.is_true() {
            one(item, "wrap", None, "ipwrap")
        } else {
            Ok(item.clone())
        }
    };
    if value.kind() == ValueKind::Seq {
        let items: Result<Vec<Value>, Error> = value.try_iter()?.map(|i| wrap(&i)).collect();
        return Ok(Value::from(items?));
    }
    let r = one(&value, &query, None, "ipwrap")?;
    if r.is_true() {
        one(&r, "wrap", None, "ipwrap")
    } else {
        Ok(value)
    }
}

fn ipmath(value: String, amount: Value) -> Result<Value, Error> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("You must pass a valid IP address; {value} is invalid"),
        )
    };
    let (v, _) = parse(&value).ok_or_else(invalid)?;
    if !value.contains('/') && v.prefix != v.width() {
        return Err(invalid());
    }
    let Some(n) = (amount.kind() == ValueKind::Number)
        .then(|| i128::try_from(amount.clone()).ok())
        .flatten()
    else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("You must pass an integer for arithmetic; {amount} is not a valid integer"),
        ));
    };
    let max = if v.v6 {
        u128::MAX
    } else {
        u128::from(u32::MAX)
    };
    let out = i128::try_from(v.ip)
        .ok()
        .and_then(|ip| ip.checked_add(n))
        .and_then(|r| u128::try_from(r).ok())
        .filter(|r| *r <= max)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                "result outside IP address boundary",
            )
        })?;
    Ok(Value::from(v.text(out)))
}

fn nthhost(value: Value, query: Option<Value>) -> Result<Value, Error> {
    let Some((v, _)) = read(&value) else {
        return Ok(Value::from(false));
    };
    let Ok(n) = query_text(query).parse::<i128>() else {
        return Ok(Value::from(false));
    };
    let size = i128::try_from(v.size()).unwrap_or(i128::MAX);
    let at = if n < 0 { size + n } else { n };
    Ok(if (0..size).contains(&at) && size > n {
        Value::from(v.text(v.network() + at as u128))
    } else {
        Value::from(false)
    })
}

fn ipsubnet(value: Value, query: Option<Value>, index: Option<i64>) -> Result<Value, Error> {
    let Some((v, is_network)) = read(&value) else {
        return Ok(Value::from(false));
    };
    let net = Net {
        ip: v.network(),
        ..v
    };
    let is_network = is_network && v.size() > 1 && v.ip == v.network();
    let query = query_text(query);
    if query.is_empty() {
        return Ok(Value::from(net.with_prefix(net.ip)));
    }
    let Ok(q) = query.parse::<u32>() else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "ipsubnet: only a prefix length is supported as the query",
        ));
    };
    if q > v.width() {
        return Ok(Value::from(false));
    }
    match (index, is_network) {
        (None, false) => {
            let sup = Net {
                prefix: q.min(v.prefix),
                ..v
            };
            Ok(Value::from(sup.with_prefix(sup.network())))
        }
        (None, true) => {
            if q < v.prefix {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("Requested subnet size of {q} is invalid"),
                ));
            }
            Ok(Value::from(format!("{}", 1u128 << (q - v.prefix).min(127))))
        }
        (Some(i), true) if q >= v.prefix => {
            let count = 1i128 << (q - v.prefix).min(126);
            let i = i128::from(i);
            let i = if i < 0 { i + count } else { i };
            if !(0..count).contains(&i) {
                return Ok(Value::from(false));
            }
            let sub = Net {
                ip: net.network() + ((i as u128) << (v.width() - q)),
                prefix: q,
                ..v
            };
            Ok(Value::from(sub.with_prefix(sub.ip)))
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "ipsubnet: this form is not supported",
        )),
    }
}

/// The first and last address of a value for the containment filters: a network's whole range,
/// or one address.
fn span(value: &str, usable_only: bool) -> Option<(bool, u128, u128)> {
    let (v, _) = parse(value)?;
    if v.size() == 1 || v.ip != v.network() {
        return Some((v.v6, v.ip, v.ip));
    }
    if usable_only {
        let (first, last) = usable(v)?;
        return Some((v.v6, first, last));
    }
    Some((v.v6, v.network(), v.last()))
}

fn within(value: &str, test: &str, usable_only: bool) -> bool {
    match (span(value, usable_only), span(test, false)) {
        (Some((a6, first, last)), Some((b6, lo, hi))) => {
            a6 == b6 && (first..=last).contains(&lo) && (first..=last).contains(&hi)
        }
        _ => false,
    }
}

fn network_in_network(value: String, test: String) -> bool {
    within(&value, &test, false)
}

fn network_in_usable(value: String, test: String) -> bool {
    within(&value, &test, true)
}

/// Registers the filters under their `ansible.utils.` names only: ansible-core 2.19 no longer
/// routes the short names (`| ipaddr`) or `ansible.netcommon.` to them, and refuses those.
pub fn register(env: &mut Environment<'static>) {
    macro_rules! add {
        ($name:literal, $f:expr) => {{
            env.add_filter(concat!("ansible.utils.", $name), $f);
        }};
    }
    add!("ipaddr", ipaddr);
    add!("ipv4", ipv4);
    add!("ipv6", ipv6);
    add!("ipwrap", ipwrap);
    add!("ipmath", ipmath);
    add!("nthhost", nthhost);
    add!("ipsubnet", ipsubnet);
    add!("network_in_network", network_in_network);
    add!("network_in_usable", network_in_usable);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_read_as_netaddr_reads_them() {
        let (n, net) = parse("192.168.1.5/255.255.255.0").unwrap();
        assert!(net);
        assert_eq!((n.prefix, n.text(n.network())), (24, "192.168.1.0".into()));
        assert_eq!(parse("10.0.0.1/0.0.0.255").unwrap().0.prefix, 24);
        assert!(parse("10.0.0.1/33").is_none() && parse("10.0.0").is_none());
        assert_eq!(
            revdns(parse("192.0.2.5").unwrap().0),
            "5.2.0.192.in-addr.arpa."
        );
    }
}
