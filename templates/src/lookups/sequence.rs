//! `lookup('sequence')`, `with_sequence`: numbers as formatted text, from `[start-]end[/stride][:format]`
//! or `start= end= count= stride= format=`.

use minijinja::Error;
use minijinja::value::Value;

use super::MAX_ITEMS;
use super::{Call, invalid, text};

/// A sequence's settings.
#[derive(Debug, PartialEq)]
struct Spec {
    start: i64,
    end: Option<i64>,
    count: Option<i64>,
    stride: i64,
    format: String,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            start: 1,
            end: None,
            count: None,
            stride: 1,
            format: "%d".into(),
        }
    }
}

/// An integer as Python's `int(x, 0)` reads one: decimal, `0x` hex, `0o` or leading-zero octal.
fn number(s: &str) -> Result<i64, Error> {
    let s = s.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let parsed = if let Some(hex) = lower.strip_prefix("0x") {
        i64::from_str_radix(hex, 16)
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8)
    } else if lower.len() > 1 && lower.starts_with('0') {
        i64::from_str_radix(&lower[1..], 8)
    } else {
        lower.parse()
    };
    parsed
        .map(|n| if negative { -n } else { n })
        .map_err(|_| invalid(format!("with_sequence: `{s}` is not a number")))
}

impl Spec {
    fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        match key {
            "start" => self.start = number(value)?,
            "end" => self.end = Some(number(value)?),
            "count" => self.count = Some(number(value)?),
            "stride" => self.stride = number(value)?,
            "format" => self.format = value.to_string(),
            other => {
                return Err(invalid(format!(
                    "unrecognized argument to with_sequence: `{other}` (it takes start, end, count, stride, format)"
                )));
            }
        }
        Ok(())
    }

    /// The shortcut form, `[start-]end[/stride][:format]`, if `term` is one.
    fn shortcut(&mut self, term: &str) -> Result<bool, Error> {
        let (numbers, format) = match term.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (term, None),
        };
        let is_num = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == 'x' || c == 'X')
        };
        let (range, stride) = match numbers.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (numbers, None),
        };
        let (start, end) = match range.split_once('-') {
            Some((s, e)) => (Some(s), e),
            None => (None, range),
        };
        if !is_num(end)
            || !start.is_none_or(is_num)
            || !stride.is_none_or(is_num)
            || format.is_some_and(str::is_empty)
        {
            return Ok(false);
        }
        if let Some(s) = start {
            self.start = number(s)?;
        }
        self.end = Some(number(end)?);
        if let Some(s) = stride {
            self.stride = number(s)?;
        }
        if let Some(f) = format {
            self.format = f.to_string();
        }
        Ok(true)
    }

    /// The numbers, as Ansible's sanity check and range give them (computed wide: no overflow).
    fn numbers(&self) -> Result<Vec<i64>, Error> {
        let (start, stride) = (i128::from(self.start), i128::from(self.stride));
        let end = match (self.end, self.count) {
            (None, None) => return Err(invalid("must specify count or end in with_sequence")),
            (Some(_), Some(_)) => {
                return Err(invalid("can't specify both count and end in with_sequence"));
            }
            (_, Some(0)) => return Ok(Vec::new()),
            (_, Some(count)) => start + i128::from(count) * stride - 1,
            (Some(end), None) => i128::from(end),
        };
        if stride > 0 && end < start {
            return Err(invalid("to count backwards make stride negative"));
        }
        if stride < 0 && end > start {
            return Err(invalid("to count forward don't make stride negative"));
        }
        if stride == 0 {
            return Ok(Vec::new());
        }
        let len = (end - start) / stride + 1;
        if len > MAX_ITEMS as i128 {
            return Err(invalid(format!(
                "with_sequence would make {len} items; drover allows {MAX_ITEMS}"
            )));
        }
        (0..len)
            .map(|i| {
                i64::try_from(start + i * stride)
                    .map_err(|_| invalid("with_sequence: a number beyond 64 bits"))
            })
            .collect()
    }
}

/// `%d`-style formatting of one number (`%d %i %u %x %X %o %s`, flags `0-+ ` and a width).
fn format(fmt: &str, n: i64) -> Result<String, Error> {
    let bad = || invalid(format!("bad formatting string: {fmt}"));
    if fmt.replace("%%", "").matches('%').count() != 1 {
        return Err(bad());
    }
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('%') {
            out.push('%');
            rest = after;
            continue;
        }
        let spec_len = rest
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(bad)?;
        let (flags_width, conv) = (&rest[..spec_len], &rest[spec_len..spec_len + 1]);
        rest = &rest[spec_len + 1..];
        let zero = flags_width.starts_with('0');
        let left = flags_width.contains('-');
        let plus = flags_width.contains('+');
        let width: usize = flags_width
            .trim_start_matches(['0', '-', '+', ' '])
            .parse()
            .unwrap_or(0);
        if width > 1024 {
            return Err(invalid(format!(
                "bad formatting string: {fmt} (a width above 1024)"
            )));
        }
        let digits = match conv {
            "d" | "i" | "u" | "s" => n.unsigned_abs().to_string(),
            "x" => format!("{:x}", n.unsigned_abs()),
            "X" => format!("{:X}", n.unsigned_abs()),
            "o" => format!("{:o}", n.unsigned_abs()),
            _ => return Err(bad()),
        };
        let sign = if n < 0 {
            "-"
        } else if plus && conv != "s" {
            "+"
        } else {
            ""
        };
        let body = sign.len() + digits.len();
        let pad = width.saturating_sub(body);
        if left {
            out.push_str(&format!("{sign}{digits}{}", " ".repeat(pad)));
        } else if zero && conv != "s" {
            out.push_str(&format!("{sign}{}{digits}", "0".repeat(pad)));
        } else {
            out.push_str(&format!("{}{sign}{digits}", " ".repeat(pad)));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// One term's sequence, the call's options under the term's own.
fn one(term: &str, call: &Call) -> Result<Vec<Value>, Error> {
    let mut spec = Spec::default();
    for (key, value) in &call.options {
        spec.set(key, &text(value))?;
    }
    if !spec.shortcut(term.trim())? {
        for word in term.split_whitespace() {
            let (key, value) = word.split_once('=').ok_or_else(|| {
                invalid(format!(
                    "with_sequence: `{word}` is neither key=value nor [start-]end[/stride][:format]"
                ))
            })?;
            spec.set(key, value)?;
        }
    }
    spec.numbers()?
        .into_iter()
        .map(|n| format(&spec.format, n).map(Value::from))
        .collect()
}

/// The plugin: each term's numbers, in order.
pub(super) fn lookup(terms: &[Value], call: &Call) -> Result<Vec<Value>, Error> {
    if terms.is_empty() && !call.options.is_empty() {
        return one("", call);
    }
    let mut out = Vec::new();
    for term in terms {
        out.extend(one(&text(term), call)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn seq(term: &str) -> Result<Vec<String>, Error> {
        let call = Call {
            options: BTreeMap::new(),
            loop_subdir: None,
        };
        Ok(lookup(&[Value::from(term)], &call)?
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect())
    }

    #[test]
    fn the_documented_examples_give_what_ansible_documents() {
        assert_eq!(seq("5").unwrap(), ["1", "2", "3", "4", "5"]);
        assert_eq!(seq("5-8").unwrap(), ["5", "6", "7", "8"]);
        assert_eq!(seq("2-10/2").unwrap(), ["2", "4", "6", "8", "10"]);
        assert_eq!(
            seq("4:host%02d").unwrap(),
            ["host01", "host02", "host03", "host04"]
        );
        assert_eq!(
            seq("start=5 end=11 stride=2 format=0x%02x").unwrap(),
            ["0x05", "0x07", "0x09", "0x0b"]
        );
        assert_eq!(
            seq("start=0x0f00 count=4 format=%04x").unwrap(),
            ["0f00", "0f01", "0f02", "0f03"]
        );
        assert_eq!(
            seq("start=1 count=5 stride=2").unwrap(),
            ["1", "3", "5", "7", "9"]
        );
        assert_eq!(seq("start=10 end=8 stride=-1").unwrap(), ["10", "9", "8"]);
        assert_eq!(seq("count=0").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn bad_sequences_are_refused() {
        assert!(seq("start=3").is_err());
        assert!(seq("end=1 count=2").is_err());
        assert!(seq("start=5 end=1").is_err());
        assert!(seq("end=3 format=%d%d").is_err());
        assert!(seq("end=3 width=2").is_err());
        assert!(seq("end=99999999").is_err());
        assert!(seq("start=9223372036854775807 count=2").is_err());
        assert!(seq("end=2 format=%099999999d").is_err());
    }
}
