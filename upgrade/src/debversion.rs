//! Debian version comparison, as `dpkg --compare-versions` does it: epoch, then upstream version,
//! then revision, each compared with dpkg's rules (`~` sorts before everything, even the end;
//! letters before other characters; digit runs as numbers).

use std::cmp::Ordering;

/// Compares two Debian versions (`1:2.3~rc1-4`), or kernel release strings (`6.1.0-28-amd64`).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(ua, ub))
        .then_with(|| verrevcmp(ra, rb))
}

/// Epoch, upstream version and revision.
fn split(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if e.bytes().all(|c| c.is_ascii_digit()) => (e.parse().unwrap_or(0), rest),
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((upstream, revision)) => (epoch, upstream, revision),
        None => (epoch, rest, ""),
    }
}

/// How dpkg orders one non-digit character; `None` is the end of the string.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair is checked against `dpkg --compare-versions` where dpkg is installed.
    #[test]
    fn orders_as_dpkg_does() {
        let less = [
            ("1.0~rc1", "1.0"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-1+deb12u1"),
            ("1.9", "1.10"),
            (
                "5:28.3.2-1~debian.12~bookworm",
                "5:29.0.2-1~debian.12~bookworm",
            ),
            ("28.5", "1:1.0"),
            ("6.1.0-28-amd64", "6.1.0-30-amd64"),
            ("1.0a", "1.0b"),
            ("1.0", "1.0a"),
            ("1.0+", "1.0.1"),
        ];
        for (a, b) in less {
            assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare(b, a), Ordering::Greater, "{b} > {a}");
            let dpkg = std::process::Command::new("dpkg")
                .args(["--compare-versions", a, "lt", b])
                .status();
            if let Ok(status) = dpkg {
                assert!(status.success(), "dpkg disagrees: {a} < {b}");
            }
        }
        assert_eq!(compare("1.0-01", "1.0-1"), Ordering::Equal);
        assert_eq!(compare("0:1.0", "1.0"), Ordering::Equal);
    }
}
