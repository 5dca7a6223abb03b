//! Ansible's filters on lists and choices: `product`, `zip`, `zip_longest`, `extract`,
//! `subelements`, `random` and `shuffle` (seeded as Python's `random.Random`).

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::pyrandom::PyRandom;

/// Registers the filters on `env`.
pub fn register(env: &mut Environment<'static>) {
    ansible_builtin!(env, add_filter, "product", product);
    ansible_builtin!(env, add_filter, "zip", zip);
    ansible_builtin!(env, add_filter, "zip_longest", zip_longest);
    ansible_builtin!(env, add_filter, "extract", extract);
    ansible_builtin!(env, add_filter, "subelements", subelements);
    ansible_builtin!(env, add_filter, "random", random);
    ansible_builtin!(env, add_filter, "shuffle", shuffle);
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// A value's items: a list's, a string's characters, a mapping's keys (Python's iteration).
pub(crate) fn items(v: &Value) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::String => Ok(v
            .as_str()
            .unwrap_or_default()
            .chars()
            .map(|c| Value::from(c.to_string()))
            .collect()),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => Ok(v.try_iter()?.collect()),
        _ => Err(invalid(format!("{} is not iterable", v.kind()))),
    }
}

/// `itertools.product`: every combination, the first list varying slowest.
fn product(first: Value, rest: Rest<Value>) -> Result<Value, Error> {
    let lists = lists(&first, &rest)?;
    combinations(&lists).map(Value::from)
}

/// Every combination of one item of each list, the first list varying slowest (also the nested
/// lookup's), at most [`crate::lookups::MAX_ITEMS`].
pub(crate) fn combinations(lists: &[Vec<Value>]) -> Result<Vec<Value>, Error> {
    let max = crate::lookups::MAX_ITEMS;
    let total = lists
        .iter()
        .map(Vec::len)
        .try_fold(1usize, usize::checked_mul);
    if total.is_none_or(|t| t > max) {
        return Err(invalid(format!(
            "the combinations would be more than {max} items"
        )));
    }
    let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
    for list in lists {
        combos = combos
            .iter()
            .flat_map(|c| {
                list.iter().map(move |v| {
                    let mut next = c.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    Ok(combos.into_iter().map(Value::from).collect())
}

fn lists(first: &Value, rest: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
    std::iter::once(first).chain(rest).map(items).collect()
}

/// Python's `zip`: as long as the shortest.
fn zip(first: Value, rest: Rest<Value>) -> Result<Value, Error> {
    let lists = lists(&first, &rest)?;
    let shortest = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..shortest)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

/// `itertools.zip_longest`: as long as the longest, `fillvalue` (none) in the gaps.
fn zip_longest(first: Value, rest: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let fill = fill.unwrap_or(Value::from(()));
    let lists = lists(&first, &rest)?;
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..longest)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `container[item]`, then each of `morekeys` in turn (`map('extract', hostvars, 'ansible_host')`).
fn extract(item: Value, container: Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut value = container.get_item(&item)?;
    let keys = match morekeys {
        None => Vec::new(),
        Some(k) if k.kind() == ValueKind::Seq => k.try_iter()?.collect(),
        Some(k) => vec![k],
    };
    for key in keys {
        if value.is_undefined() {
            break;
        }
        value = value.get_item(&key)?;
    }
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("extract: `{item}` is not in the container"),
        ));
    }
    Ok(value)
}

/// Each element paired with each item of its list at `path` (`a.b` or a list of keys); the element
/// is kept whole (unlike the subelements lookup).
fn subelements(obj: Value, path: Value, rest: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let skip_missing = match (
        rest.first().cloned(),
        kwargs.get::<Option<Value>>("skip_missing")?,
    ) {
        (_, Some(v)) | (Some(v), None) => v.is_true(),
        (None, None) => false,
    };
    kwargs.assert_all_used()?;
    let elements = match obj.kind() {
        ValueKind::Map => obj
            .try_iter()?
            .map(|k| obj.get_item(&k))
            .collect::<Result<Vec<_>, _>>()?,
        ValueKind::Seq => obj.try_iter()?.collect(),
        _ => return Err(invalid("obj must be a list of dicts or a nested dict")),
    };
    let keys: Vec<Value> = match path.kind() {
        ValueKind::String => path
            .as_str()
            .unwrap_or_default()
            .split('.')
            .map(Value::from)
            .collect(),
        ValueKind::Seq => path.try_iter()?.collect(),
        _ => return Err(invalid("subelements must be a list or a string")),
    };
    let mut out = Vec::new();
    for element in elements {
        let mut values = element.clone();
        for key in &keys {
            values = values.get_item(key).unwrap_or(Value::UNDEFINED);
            if values.is_undefined() {
                break;
            }
        }
        if values.is_undefined() {
            if skip_missing {
                continue;
            }
            return Err(invalid(format!(
                "could not find {path} key in iterated item {element}"
            )));
        }
        if values.kind() != ValueKind::Seq {
            return Err(invalid(format!("the key {path} should point to a list")));
        }
        for v in values.try_iter()? {
            out.push(Value::from(vec![element.clone(), v]));
        }
    }
    Ok(Value::from(out))
}

/// `Random(seed)`: an integer or a string seeds as Python seeds them; no seed is the OS's random.
fn generator(seed: Option<&Value>) -> Result<PyRandom, Error> {
    match seed {
        Some(s) if s.kind() == ValueKind::String => {
            Ok(PyRandom::from_str(s.as_str().unwrap_or_default()))
        }
        Some(s) if s.kind() == ValueKind::Number => i128::try_from(s.clone())
            .map(PyRandom::from_int)
            .map_err(|_| invalid(format!("seed {s}: drover seeds with integers and strings"))),
        Some(s) if s.kind() == ValueKind::Bool => Ok(PyRandom::from_int(i128::from(s.is_true()))),
        Some(s) if !s.is_none() && !s.is_undefined() => Err(invalid(format!(
            "seed {s}: drover seeds with integers and strings"
        ))),
        _ => {
            let mut bits = [0u8; 16];
            getrandom::fill(&mut bits).map_err(|e| invalid(format!("no random source: {e}")))?;
            Ok(PyRandom::from_int(i128::from_le_bytes(bits) >> 1))
        }
    }
}

/// `END | random(start=0, step=1, seed=None)`: `randrange(start, END, step)` for a number, a
/// random item for a list or string.
fn random(end: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let start: Option<i64> = kwargs.get("start")?;
    let step: Option<i64> = kwargs.get("step")?;
    let seed: Option<Value> = kwargs.get("seed")?;
    kwargs.assert_all_used()?;
    let mut r = generator(seed.as_ref())?;
    if end.kind() == ValueKind::Number {
        let end = i64::try_from(end.clone())
            .map_err(|_| invalid(format!("random: {end} is not an integer")))?;
        let (start, step) = (start.unwrap_or(0), step.filter(|s| *s != 0).unwrap_or(1));
        return r
            .randrange(start, end, step)
            .map(Value::from)
            .ok_or_else(|| invalid(format!("empty range for randrange({start}, {end}, {step})")));
    }
    if start.is_some_and(|s| s != 0) || step.is_some_and(|s| s != 0) {
        return Err(invalid(
            "start and step can only be used with integer values",
        ));
    }
    let choices =
        items(&end).map_err(|_| invalid("random can only be used on sequences and integers"))?;
    if choices.is_empty() {
        return Err(invalid("random: cannot choose from an empty sequence"));
    }
    Ok(choices[r.below(choices.len() as u64) as usize].clone())
}

/// `list | shuffle(seed=None)`: a shuffled copy.
fn shuffle(list: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    kwargs.assert_all_used()?;
    let mut list = items(&list)?;
    // Ansible shuffles unseeded when the seed is empty or false.
    let seed = seed.filter(Value::is_true);
    generator(seed.as_ref())?.shuffle(&mut list);
    Ok(Value::from(list))
}
