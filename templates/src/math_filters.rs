//! Ansible's math filters: `log`, `pow`, `root`, `permutations`, `combinations`,
//! `symmetric_difference`, `human_to_bytes`, `rekey_on_member`.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::list_filters::items;

/// Registers the filters on `env`.
pub fn register(env: &mut Environment<'static>) {
    ansible_builtin!(env, add_filter, "log", log);
    ansible_builtin!(env, add_filter, "pow", pow);
    ansible_builtin!(env, add_filter, "root", root);
    ansible_builtin!(env, add_filter, "permutations", permutations);
    ansible_builtin!(env, add_filter, "combinations", combinations);
    ansible_builtin!(
        env,
        add_filter,
        "symmetric_difference",
        symmetric_difference
    );
    ansible_builtin!(env, add_filter, "human_to_bytes", human_to_bytes);
    ansible_builtin!(env, add_filter, "rekey_on_member", rekey_on_member);
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn number(v: &Value, what: &str) -> Result<f64, Error> {
    f64::try_from(v.clone()).map_err(|_| invalid(format!("{what}: {v} is not a number")))
}

/// `math.log(x, base)`, the natural logarithm without a base.
fn log(x: Value, base: Option<Value>) -> Result<f64, Error> {
    let x = number(&x, "log")?;
    if x <= 0.0 {
        return Err(invalid("log: math domain error"));
    }
    Ok(match base {
        None => x.ln(),
        Some(b) if number(&b, "log")? == 10.0 => x.log10(),
        Some(b) => x.ln() / number(&b, "log")?.ln(),
    })
}

/// `math.pow(x, y)`: always a float, as Python's.
fn pow(x: Value, y: Value) -> Result<f64, Error> {
    Ok(number(&x, "pow")?.powf(number(&y, "pow")?))
}

/// The `base`th root (square root by default).
fn root(x: Value, base: Option<Value>) -> Result<f64, Error> {
    let x = number(&x, "root")?;
    match base.map(|b| number(&b, "root")).transpose()? {
        None | Some(2.0) => Ok(x.sqrt()),
        Some(b) => Ok(x.powf(1.0 / b)),
    }
}

/// The most arrangements `permutations`/`combinations` make.
const MAX_ARRANGEMENTS: usize = 100_000;

/// `itertools.permutations(list, r)`: ordered arrangements of `r` items (all when unsaid).
fn permutations(list: Value, r: Option<usize>) -> Result<Value, Error> {
    let pool = items(&list)?;
    let r = r.unwrap_or(pool.len());
    let mut out: Vec<Vec<usize>> = Vec::new();
    fn extend(n: usize, r: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) -> bool {
        if out.len() > MAX_ARRANGEMENTS {
            return false;
        }
        if cur.len() == r {
            out.push(cur.clone());
            return true;
        }
        for i in 0..n {
            if !cur.contains(&i) {
                cur.push(i);
                let ok = extend(n, r, cur, out);
                cur.pop();
                if !ok {
                    return false;
                }
            }
        }
        true
    }
    if r <= pool.len() && !extend(pool.len(), r, &mut Vec::new(), &mut out) {
        return Err(invalid(format!(
            "permutations: more than {MAX_ARRANGEMENTS}"
        )));
    }
    Ok(pick(&pool, out))
}

/// `itertools.combinations(list, r)`: arrangements of `r` items in their order.
fn combinations(list: Value, r: usize) -> Result<Value, Error> {
    let pool = items(&list)?;
    let mut out: Vec<Vec<usize>> = Vec::new();
    fn extend(
        start: usize,
        n: usize,
        r: usize,
        cur: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) -> bool {
        if out.len() > MAX_ARRANGEMENTS {
            return false;
        }
        if cur.len() == r {
            out.push(cur.clone());
            return true;
        }
        for i in start..n {
            cur.push(i);
            let ok = extend(i + 1, n, r, cur, out);
            cur.pop();
            if !ok {
                return false;
            }
        }
        true
    }
    if r <= pool.len() && !extend(0, pool.len(), r, &mut Vec::new(), &mut out) {
        return Err(invalid(format!(
            "combinations: more than {MAX_ARRANGEMENTS}"
        )));
    }
    Ok(pick(&pool, out))
}

fn pick(pool: &[Value], picks: Vec<Vec<usize>>) -> Value {
    Value::from(
        picks
            .into_iter()
            .map(|p| Value::from(p.into_iter().map(|i| pool[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    )
}

/// The items in one list or the other, not both, in the order of their union.
fn symmetric_difference(a: Value, b: Value) -> Result<Value, Error> {
    let (a, b) = (items(&a)?, items(&b)?);
    let mut union: Vec<Value> = Vec::new();
    for v in a.iter().chain(&b) {
        if !union.contains(v) {
            union.push(v.clone());
        }
    }
    Ok(Value::from(
        union
            .into_iter()
            .filter(|v| !(a.contains(v) && b.contains(v)))
            .collect::<Vec<_>>(),
    ))
}

/// `'10M' | human_to_bytes`: a size as a whole number of bytes (or bits, `isbits=true`), with
/// Ansible's units (K, M, G, ... in powers of 1024, `KB` or `K`; `Kb` for bits).
fn human_to_bytes(
    number: Value,
    default_unit: Option<String>,
    kwargs: Kwargs,
) -> Result<i64, Error> {
    let isbits: Option<bool> = kwargs.get("isbits")?;
    kwargs.assert_all_used()?;
    let isbits = isbits.unwrap_or(false);
    let text = crate::pyrepr::py_str(&crate::filters::to_data(&number)?);
    let re = regex::Regex::new(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$").expect("valid regex");
    let caps = re.captures(&text).ok_or_else(|| {
        invalid(format!(
            "human_to_bytes() can't interpret following string: {text}"
        ))
    })?;
    let num: f64 = caps[1].parse().map_err(|_| {
        invalid(format!(
            "human_to_bytes() can't interpret following number: {}",
            &caps[1]
        ))
    })?;
    let Some(unit) = caps.get(2).map(|m| m.as_str().to_string()).or(default_unit) else {
        return Ok(num.round_ties_even() as i64);
    };
    let prefixes = "BKMGTPEZY";
    let key = unit.chars().next().unwrap_or('B').to_ascii_uppercase();
    let power = prefixes
        .find(key)
        .ok_or_else(|| invalid(format!("human_to_bytes() failed to convert {text} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B")))?;
    if unit.len() > 1 {
        let names = [
            "byte",
            "kilobyte",
            "megabyte",
            "gigabyte",
            "terabyte",
            "petabyte",
            "exabyte",
            "zetabyte",
            "yottabyte",
        ];
        let (word, short) = if isbits {
            (names[power].replace("byte", "bit"), format!("{key}b"))
        } else {
            (names[power].to_string(), format!("{key}B"))
        };
        let short = if power == 0 {
            if isbits {
                "b".to_string()
            } else {
                "B".to_string()
            }
        } else {
            short
        };
        if unit.to_lowercase() != word && unit != short {
            return Err(invalid(format!(
                "human_to_bytes() failed to convert {text}. Value is not a valid string (expect {short} or {key})"
            )));
        }
    }
    // As a float: 1 << 80 (Y) does not fit a whole number; the result saturates at i64's bounds.
    Ok((num * 1024f64.powi(power as i32)).round_ties_even() as i64)
}

/// A list of mappings as a mapping keyed by each one's `key` member.
fn rekey_on_member(data: Value, key: String, kwargs: Kwargs) -> Result<Value, Error> {
    let duplicates: Option<String> = kwargs.get("duplicates")?;
    kwargs.assert_all_used()?;
    let keep_last = match duplicates.as_deref() {
        None | Some("error") => false,
        Some("overwrite") => true,
        Some(other) => {
            return Err(invalid(format!(
                "rekey_on_member: duplicates `{other}`: error or overwrite"
            )));
        }
    };
    let list = match data.kind() {
        ValueKind::Map => data
            .try_iter()?
            .map(|k| data.get_item(&k))
            .collect::<Result<Vec<_>, _>>()?,
        _ => items(&data)?,
    };
    let mut out = serde_json::Map::new();
    for item in list {
        let member = item.get_attr(&key)?;
        if member.is_undefined() {
            return Err(invalid(format!("key {key} was not found")));
        }
        let name = crate::pyrepr::py_str(&crate::filters::to_data(&member)?);
        if out.contains_key(&name) && !keep_last {
            return Err(invalid(format!(
                "key {name} is not unique, cannot correctly turn into dict"
            )));
        }
        out.insert(name, crate::filters::to_data(&item)?);
    }
    Ok(crate::filters::data_value(&out))
}
