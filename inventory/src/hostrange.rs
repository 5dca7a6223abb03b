//! Host declarations: `web[01:20].example.com`, `db-[a:f]`, `x[1:10:2]`, `host:2222`, `[fd00::1]:22`.

use std::net::Ipv6Addr;

/// A host declaration expanded: the host names and the port, if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The host names, in order.
    pub names: Vec<String>,
    /// The port after `:`, if any.
    pub port: Option<u16>,
}

/// Expands one host declaration as Ansible does. The error says what is wrong with the range.
pub fn expand(decl: &str) -> Result<Declared, String> {
    let (host, port) = split_port(decl)?;
    let names = if host.contains('[') || host.contains(']') {
        expand_ranges(host)?
    } else {
        vec![host.to_string()]
    };
    Ok(Declared { names, port })
}

/// Separates a trailing `:port`, minding IPv6 addresses and the colons inside ranges.
fn split_port(decl: &str) -> Result<(&str, Option<u16>), String> {
    if let Some((addr, rest)) = decl.strip_prefix('[').and_then(|d| d.split_once(']'))
        && addr.parse::<Ipv6Addr>().is_ok()
    {
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok((addr, None)),
            Some(p) => parse_port(p).map(|p| (addr, Some(p))),
            None => Err(format!("unexpected `{rest}` after the IPv6 address")),
        };
    }
    if decl.parse::<Ipv6Addr>().is_ok() {
        return Ok((decl, None));
    }
    let mut depth = 0i32;
    let mut last_colon = None;
    for (i, c) in decl.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => last_colon = Some(i),
            _ => {}
        }
    }
    match last_colon {
        Some(i) => parse_port(&decl[i + 1..]).map(|p| (&decl[..i], Some(p))),
        None => Ok((decl, None)),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("`{text}` is not a port number"))
}

/// The most hosts one declaration may expand to: far beyond any fleet, and it keeps a typo such as
/// `x[1:99999999]` from eating the controller's memory.
const MAX_HOSTS: usize = 100_000;

fn too_many() -> String {
    format!("expands to more than {MAX_HOSTS} hosts")
}

/// Expands the first `[a:b(:step)]` and recurses for any further ones.
fn expand_ranges(host: &str) -> Result<Vec<String>, String> {
    let Some(open) = host.find('[') else {
        return if host.contains(']') {
            Err("`]` without `[`".into())
        } else {
            Ok(vec![host.to_string()])
        };
    };
    let close = host[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or("`[` without `]`")?;
    let (head, range, tail) = (&host[..open], &host[open + 1..close], &host[close + 1..]);
    let mut out = Vec::new();
    for item in range_items(range)? {
        out.extend(expand_ranges(&format!("{head}{item}{tail}"))?);
        if out.len() > MAX_HOSTS {
            return Err(too_many());
        }
    }
    Ok(out)
}

fn range_items(range: &str) -> Result<Vec<String>, String> {
    let bounds: Vec<&str> = range.split(':').collect();
    let (begin, end, step) = match bounds[..] {
        [b, e] => (b, e, "1"),
        [b, e, s] => (b, e, s),
        _ => return Err(format!("`[{range}]` must be begin:end or begin:end:step")),
    };
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(format!("`[{range}]` has no end value"));
    }
    let step: usize = step
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("step `{step}` is not a positive number"))?;
    if let (Some(b), Some(e)) = (single_letter(begin), single_letter(end)) {
        if b > e {
            return Err(format!("`[{range}]` begins after it ends"));
        }
        return Ok((b..=e)
            .step_by(step)
            .map(|c| char::from(c).to_string())
            .collect());
    }
    let (b, e) = match (begin.parse::<u64>(), end.parse::<u64>()) {
        (Ok(b), Ok(e)) => (b, e),
        _ => {
            return Err(format!(
                "`[{range}]` mixes or misspells bounds (use numbers or single letters)"
            ));
        }
    };
    if b > e {
        return Err(format!("`[{range}]` begins after it ends"));
    }
    if (e - b) / step as u64 >= MAX_HOSTS as u64 {
        return Err(format!("`[{range}]` {}", too_many()));
    }
    // A leading zero asks for zero-padded names, and then both ends must have the same width.
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(format!(
                "`[{range}]` is zero-padded, so begin and end must have the same width"
            ));
        }
        begin.len()
    } else {
        0
    };
    Ok((b..=e)
        .step_by(step)
        .map(|n| format!("{n:0width$}"))
        .collect())
}

fn single_letter(text: &str) -> Option<u8> {
    match text.as_bytes() {
        [c] if c.is_ascii_alphabetic() => Some(*c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(decl: &str) -> Vec<String> {
        expand(decl).unwrap().names
    }

    #[test]
    fn numeric_alpha_and_stepped_ranges() {
        assert_eq!(
            names("web[01:03].example.com"),
            [
                "web01.example.com",
                "web02.example.com",
                "web03.example.com"
            ]
        );
        assert_eq!(names("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(names("x[1:10:4]"), ["x1", "x5", "x9"]);
        assert_eq!(names("r[1:2]-[a:b]"), ["r1-a", "r1-b", "r2-a", "r2-b"]);
        assert_eq!(names("n[:2]"), ["n0", "n1", "n2"]);
    }

    #[test]
    fn ports_and_ipv6() {
        assert_eq!(expand("host:2222").unwrap().port, Some(2222));
        assert_eq!(
            expand("[fd00::1]:2222").unwrap(),
            Declared {
                names: vec!["fd00::1".into()],
                port: Some(2222)
            }
        );
        assert_eq!(
            expand("fd00::1").unwrap(),
            Declared {
                names: vec!["fd00::1".into()],
                port: None
            }
        );
        assert_eq!(
            expand("web[1:2]:22").unwrap(),
            Declared {
                names: vec!["web1".into(), "web2".into()],
                port: Some(22)
            }
        );
    }

    #[test]
    fn bad_ranges_say_why() {
        for bad in [
            "web[1-5]",
            "web[01:5]",
            "web[5:1]",
            "web[a:5]",
            "web[1:]",
            "web[1:5",
            "web1:5]",
            "h:notaport",
            "x[1:4:0]",
        ] {
            assert!(expand(bad).is_err(), "{bad} should be refused");
        }
    }

    /// Found by the inventory fuzz target: two ranges of a thousand multiply to a million names.
    #[test]
    fn a_range_that_expands_to_too_many_hosts_is_refused_before_it_is_built() {
        assert_eq!(
            expand("x[0:18446744073709551615]").unwrap_err(),
            "`[0:18446744073709551615]` expands to more than 100000 hosts"
        );
        assert_eq!(
            expand("db-x[1:984].example.cx[1:984].com").unwrap_err(),
            "expands to more than 100000 hosts"
        );
        assert_eq!(expand("n[1:100000]").unwrap().names.len(), 100_000);
    }
}
