//! Python literals, as Ansible reads INI values with `ast.literal_eval`.
//!
//! `port=22` is an integer, `debug=True` a boolean, `tags=['a', 'b']` a list and `name="web"` the string
//! `web`; anything that is not a literal (`yes`, `0755`, `/opt/app`) stays the text it was.

use serde_json::{Map, Number, Value};

/// The value Ansible gives an INI value: a Python literal if it is one, else the text itself.
pub fn ini_value(text: &str) -> Value {
    literal(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// Parses `text` as one whole Python literal.
fn literal(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    // literal_eval rejects leading indentation, so only trailing space is skipped.
    let v = p.value()?;
    p.space();
    // Python allows a trailing comment after the literal.
    (p.i == p.s.len() || p.peek() == Some(b'#')).then_some(v)
}

/// How deeply brackets may nest: Python's tokenizer refuses a 201st level ("too many nested
/// parentheses"), so Ansible keeps such a value as text, and so does drover.
const MAX_NESTING: usize = 200;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.space();
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn value(&mut self) -> Option<Value> {
        self.space();
        match self.peek()? {
            b'\'' | b'"' => self.strings(),
            b'[' | b'(' | b'{' => {
                self.depth += 1;
                let v = match self.peek()? {
                    _ if self.depth > MAX_NESTING => None,
                    b'[' => self.sequence(b']'),
                    b'(' => self.sequence(b')'),
                    _ => self.dict(),
                };
                self.depth -= 1;
                v
            }
            b'-' | b'+' => {
                let negative = self.peek() == Some(b'-');
                self.i += 1;
                self.space();
                negate(self.number()?, negative)
            }
            b'0'..=b'9' | b'.' => self.number(),
            _ => self.name(),
        }
    }

    fn name(&mut self) -> Option<Value> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        match &self.s[start..self.i] {
            b"True" => Some(Value::Bool(true)),
            b"False" => Some(Value::Bool(false)),
            b"None" => Some(Value::Null),
            _ => None,
        }
    }

    /// One or more adjacent string literals, which Python joins.
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        while matches!(self.peek(), Some(b'\'' | b'"')) {
            out.push_str(&self.string()?);
            self.space();
        }
        Some(Value::String(out))
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                c if c == quote => break,
                b'\n' => return None,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'0' => out.push(0),
                        b'\\' | b'\'' | b'"' => out.push(e),
                        b'\n' => {}
                        other => out.extend([b'\\', other]),
                    }
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).ok()
    }

    fn sequence(&mut self, close: u8) -> Option<Value> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(Value::Array(items));
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                // A parenthesised single value without a comma is just that value.
                if close == b')' && items.len() == 1 && self.eat(close) {
                    return items.pop();
                }
                return self.eat(close).then_some(Value::Array(items));
            }
        }
    }

    fn dict(&mut self) -> Option<Value> {
        self.i += 1;
        let mut map = Map::new();
        loop {
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                Value::Object(_) | Value::Array(_) => return None,
                other => other.to_string(),
            };
            if !self.eat(b':') {
                return None;
            }
            map.insert(key, self.value()?);
            if !self.eat(b',') {
                return self.eat(b'}').then_some(Value::Object(map));
            }
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.'))
            || (matches!(self.peek(), Some(b'+' | b'-'))
                && matches!(self.s.get(self.i - 1), Some(b'e' | b'E')))
        {
            self.i += 1;
        }
        let token = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        python_number(token)
    }
}

fn negate(v: Value, negative: bool) -> Option<Value> {
    if !negative {
        return Some(v);
    }
    match v {
        Value::Number(n) if n.is_i64() => Some(Value::from(-n.as_i64()?)),
        Value::Number(n) => Number::from_f64(-n.as_f64()?).map(Value::Number),
        _ => None,
    }
}

/// A Python 3 numeric literal: `42`, `1_000`, `0x1f`, `0o17`, `0b1`, `1.5`, `1e3`, `.5`.
fn python_number(token: &str) -> Option<Value> {
    if token.starts_with('_') || token.ends_with('_') || token.contains("__") {
        return None;
    }
    let digits = token.replace('_', "");
    let lower = digits.to_ascii_lowercase();
    let radix = |prefix: &str, radix| {
        lower
            .strip_prefix(prefix)
            .and_then(|d| i64::from_str_radix(d, radix).ok())
            .map(Value::from)
    };
    if lower.starts_with("0x") {
        return radix("0x", 16);
    }
    if lower.starts_with("0o") {
        return radix("0o", 8);
    }
    if lower.starts_with("0b") {
        return radix("0b", 2);
    }
    if lower.bytes().all(|c| c.is_ascii_digit()) {
        // Python 3 forbids leading zeros in decimal integers, except for zero itself.
        if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|c| c != b'0') {
            return None;
        }
        return lower.parse::<i64>().ok().map(Value::from);
    }
    let float_shape = lower
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'));
    if float_shape {
        return lower
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_become_values() {
        assert_eq!(ini_value("22"), json!(22));
        assert_eq!(ini_value("-3"), json!(-3));
        assert_eq!(ini_value("1_000"), json!(1000));
        assert_eq!(ini_value("0x10"), json!(16));
        assert_eq!(ini_value("1.5"), json!(1.5));
        assert_eq!(ini_value("1e3"), json!(1000.0));
        assert_eq!(ini_value("True"), json!(true));
        assert_eq!(ini_value("None"), json!(null));
        assert_eq!(ini_value("'web'"), json!("web"));
        assert_eq!(ini_value(r#""a\tb""#), json!("a\tb"));
        assert_eq!(ini_value("['a', 2, [True]]"), json!(["a", 2, [true]]));
        assert_eq!(ini_value("(1, 2)"), json!([1, 2]));
        assert_eq!(ini_value("(1)"), json!(1));
        assert_eq!(
            ini_value("{'tier': 'ops', 'n': 2}"),
            json!({"tier": "ops", "n": 2})
        );
    }

    #[test]
    fn non_literals_stay_text() {
        for text in [
            "yes", "no", "0755", "/opt/app", "true", "web01", "1.2.3", "a b", "[1,", "'open",
        ] {
            assert_eq!(ini_value(text), json!(text), "{text}");
        }
    }

    #[test]
    fn nesting_past_pythons_limit_stays_text() {
        let at = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(ini_value(&at(200)).is_array());
        assert_eq!(ini_value(&at(201)), json!(at(201)));
        assert_eq!(ini_value(&at(100_000)), json!(at(100_000)));
    }
}
