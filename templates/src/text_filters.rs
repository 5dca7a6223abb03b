//! Ansible's filters on text, paths and sizes that real role templates use: `splitext`, `hash`,
//! `checksum`, `to_uuid`, `human_readable`, and Jinja2's `truncate`, `center` and `wordcount` (and
//! `urlencode`, minijinja's own).

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind};
use sha1::Digest;

/// Registers the filters on `env`.
pub fn register(env: &mut Environment<'static>) {
    ansible_builtin!(env, add_filter, "splitext", splitext);
    ansible_builtin!(env, add_filter, "hash", hash);
    ansible_builtin!(env, add_filter, "checksum", checksum);
    ansible_builtin!(env, add_filter, "password_hash", password_hash);
    ansible_builtin!(env, add_filter, "md5", |t: String| hash(
        t,
        Some("md5".into())
    ));
    ansible_builtin!(env, add_filter, "sha1", |t: String| hash(
        t,
        Some("sha1".into())
    ));
    ansible_builtin!(env, add_filter, "regex_escape", regex_escape);
    ansible_builtin!(env, add_filter, "urldecode", urldecode);
    ansible_builtin!(env, add_filter, "type_debug", type_debug);
    ansible_builtin!(env, add_filter, "to_uuid", to_uuid);
    ansible_builtin!(env, add_filter, "human_readable", human_readable);
    env.add_filter("truncate", truncate);
    env.add_filter("center", center);
    env.add_filter("wordcount", minijinja_contrib::filters::wordcount);
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

/// Python's `os.path.splitext`: the extension is the last dot's, unless the name only starts with it.
fn splitext(path: String) -> Vec<String> {
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    let name = &path[name_start..];
    let dot = name
        .rfind('.')
        .filter(|&i| name[..i].chars().any(|c| c != '.'));
    match dot {
        Some(i) => vec![
            path[..name_start + i].to_string(),
            path[name_start + i..].to_string(),
        ],
        None => vec![path, String::new()],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `hash('sha1')` (the default), `sha224`, `sha256`, `sha384`, `sha512`.
fn hash(text: String, algorithm: Option<String>) -> Result<String, Error> {
    let data = text.as_bytes();
    Ok(match algorithm.as_deref().unwrap_or("sha1") {
        "md5" => format!("{:x}", md5::compute(data)),
        "sha1" => hex(&sha1::Sha1::digest(data)),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        "sha256" => hex(&sha2::Sha256::digest(data)),
        "sha384" => hex(&sha2::Sha384::digest(data)),
        "sha512" => hex(&sha2::Sha512::digest(data)),
        other => {
            return Err(invalid(format!(
                "hash: `{other}` is not supported; drover has md5, sha1, sha224, sha256, sha384, sha512"
            )));
        }
    })
}

/// `checksum`: the SHA-1 of the text, as Ansible's.
/// `password | password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None)`: SHA-crypt
/// as passlib (which ansible-core 2.19 requires for this filter) computes it, with passlib's default
/// rounds; without a salt, a random one.
fn password_hash(
    password: String,
    hashtype: Option<String>,
    salt: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let salt: Option<String> = match salt {
        Some(s) => Some(s),
        None => kwargs.get("salt")?,
    };
    let salt_size: Option<usize> = kwargs.get("salt_size")?;
    let rounds: Option<u32> = kwargs.get("rounds")?;
    let ident: Option<String> = kwargs.get("ident")?;
    let hashtype = match kwargs.get::<Option<String>>("hashtype")? {
        Some(h) => Some(h),
        None => hashtype,
    };
    kwargs.assert_all_used()?;
    let variant = match hashtype.as_deref().unwrap_or("sha512") {
        "sha512" | "sha512_crypt" => crate::crypt::Variant::Sha512,
        "sha256" | "sha256_crypt" => crate::crypt::Variant::Sha256,
        other => {
            return Err(invalid(format!(
                "password_hash: `{other}` is not supported; drover has sha512 and sha256"
            )));
        }
    };
    if let Some(i) = ident {
        return Err(invalid(format!(
            "password_hash: ident `{i}` applies to bcrypt only, which drover does not have"
        )));
    }
    let rounds = rounds.unwrap_or(variant.default_rounds());
    // passlib allows up to 999,999,999; a render that long (minutes of SHA-512) is bounded here.
    if !(1000..=10_000_000).contains(&rounds) {
        return Err(invalid(format!(
            "password_hash: rounds must be between 1000 and 10000000, not {rounds}"
        )));
    }
    let salt = match salt {
        Some(s) if s.len() > 16 || !crate::crypt::valid_salt(&s) => {
            return Err(invalid(format!(
                "password_hash: the salt must be at most 16 characters of ./0-9A-Za-z, not `{s}`"
            )));
        }
        Some(s) => s,
        None => {
            let mut s = crate::crypt::random_salt()
                .map_err(|e| invalid(format!("password_hash: no random source: {e}")))?;
            s.truncate(salt_size.unwrap_or(16).clamp(1, 16));
            s
        }
    };
    Ok(crate::crypt::sha_crypt(
        variant,
        password.as_bytes(),
        &salt,
        rounds,
    ))
}

/// `re.escape` (`re_type='python'`), or the POSIX basic regex escaping.
fn regex_escape(text: String, re_type: Option<String>) -> Result<String, Error> {
    let special: &str = match re_type.as_deref().unwrap_or("python") {
        "python" => "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}",
        "posix_basic" => "].[^$*\\",
        other => {
            return Err(invalid(format!(
                "regex_escape: re_type `{other}`: python or posix_basic"
            )));
        }
    };
    Ok(text
        .chars()
        .flat_map(|c| {
            let escaped = special.contains(c);
            escaped.then_some('\\').into_iter().chain([c])
        })
        .collect())
}

/// `urllib.parse.unquote_plus`: `+` is a space, `%XX` the byte it names (UTF-8 read back).
fn urldecode(text: String) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && u8::from_str_radix(text.get(i + 1..i + 3).unwrap_or("zz"), 16).is_ok() =>
            {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'%'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Python type name of a value, as Ansible's `type_debug` gives it.
fn type_debug(value: minijinja::Value) -> &'static str {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::Undefined => "Undefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

fn checksum(text: String) -> String {
    hex(&sha1::Sha1::digest(text.as_bytes()))
}

/// `to_uuid`: a UUID 5 of the text in Ansible's namespace (or `namespace=`).
fn to_uuid(text: String, kwargs: Kwargs) -> Result<String, Error> {
    let namespace: Option<String> = kwargs.get("namespace")?;
    kwargs.assert_all_used()?;
    let namespace = namespace.unwrap_or_else(|| "361E6D51-FAEC-444A-9079-341386DA8E2E".into());
    let digits: String = namespace.chars().filter(char::is_ascii_hexdigit).collect();
    if digits.len() != 32 {
        return Err(invalid(format!("to_uuid: `{namespace}` is not a UUID")));
    }
    let ns_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect();
    let mut h = sha1::Sha1::new();
    h.update(&ns_bytes);
    h.update(text.as_bytes());
    let mut b: Vec<u8> = h.finalize()[..16].to_vec();
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    ))
}

/// Jinja2's `truncate(length=255, killwords=False, end='...', leeway=5)`.
fn truncate(
    text: String,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let length = length.or(kwargs.get("length")?).unwrap_or(255);
    let killwords = killwords.or(kwargs.get("killwords")?).unwrap_or(false);
    let end = end.or(kwargs.get("end")?).unwrap_or_else(|| "...".into());
    let leeway: usize = kwargs.get::<Option<usize>>("leeway")?.unwrap_or(5);
    kwargs.assert_all_used()?;
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= length + leeway {
        return Ok(text);
    }
    let keep: String = chars[..length.saturating_sub(end.chars().count())]
        .iter()
        .collect();
    let kept = if killwords {
        keep
    } else {
        keep.rsplit_once(' ')
            .map_or(keep.clone(), |(head, _)| head.to_string())
    };
    Ok(kept + &end)
}

/// Python's `str.center(width)`, which Jinja2's `center` is.
fn center(text: String, width: Option<usize>) -> String {
    let width = width.unwrap_or(80);
    let len = text.chars().count();
    if len >= width {
        return text;
    }
    let margin = width - len;
    let left = margin / 2 + (margin & width & 1);
    format!("{}{text}{}", " ".repeat(left), " ".repeat(margin - left))
}

/// `human_readable(isbits=False, unit=None)`: `1.00 MB`, as ansible-core's bytes_to_human.
fn human_readable(size: f64, isbits: Option<bool>, kwargs: Kwargs) -> Result<String, Error> {
    let isbits = isbits.or(kwargs.get("isbits")?);
    let unit: Option<String> = kwargs.get("unit")?;
    kwargs.assert_all_used()?;
    Ok(bytes_to_human(size, isbits, unit))
}

fn bytes_to_human(size: f64, isbits: Option<bool>, unit: Option<String>) -> String {
    const RANGES: [(&str, f64); 9] = [
        ("Y", 1_208_925_819_614_629_174_706_176.0),
        ("Z", 1_180_591_620_717_411_303_424.0),
        ("E", 1_152_921_504_606_846_976.0),
        ("P", 1_125_899_906_842_624.0),
        ("T", 1_099_511_627_776.0),
        ("G", 1_073_741_824.0),
        ("M", 1_048_576.0),
        ("K", 1024.0),
        ("B", 1.0),
    ];
    let base = if isbits == Some(true) {
        "bits"
    } else {
        "Bytes"
    };
    let wanted = unit
        .as_deref()
        .and_then(|u| u.chars().next())
        .map(|c| c.to_ascii_uppercase());
    let (suffix, limit) = RANGES
        .iter()
        .find(|(s, limit)| match wanted {
            None => size >= *limit,
            Some(c) => s.starts_with(c),
        })
        .copied()
        .unwrap_or(("B", 1.0));
    let suffix = if limit == 1.0 {
        base.to_string()
    } else {
        format!("{suffix}{}", &base[..1])
    };
    format!("{:.2} {suffix}", size / limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each expected value is what ansible-core 2.19 renders (see tests/fixtures).
    #[test]
    fn as_ansible_renders_them() {
        assert_eq!(splitext("x.tar.gz".into()), ["x.tar", ".gz"]);
        assert_eq!(splitext("/a.b/.bashrc".into()), ["/a.b/.bashrc", ""]);
        assert_eq!(
            hash("abc".into(), None).unwrap(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            checksum("abc".into()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            to_uuid(
                "host".into(),
                Kwargs::from_iter(std::iter::empty::<(&str, minijinja::Value)>())
            )
            .unwrap(),
            "56253c97-5b34-596e-be12-a86aaf21e630"
        );
        assert_eq!(bytes_to_human(1_048_576.0, None, None), "1.00 MB");
        assert_eq!(bytes_to_human(10.0, None, None), "10.00 Bytes");
        assert_eq!(
            bytes_to_human(2048.0, Some(true), Some("K".into())),
            "2.00 Kb"
        );
        assert_eq!(center("abcdef".into(), Some(10)), "  abcdef  ");
        assert_eq!(center("abc".into(), Some(6)), " abc  ");
        let no_kwargs = || Kwargs::from_iter(std::iter::empty::<(&str, minijinja::Value)>());
        assert_eq!(
            truncate("abcdefghij".into(), Some(5), None, None, no_kwargs()).unwrap(),
            "abcdefghij"
        );
        assert_eq!(
            truncate(
                "one two three four five".into(),
                Some(12),
                None,
                None,
                no_kwargs()
            )
            .unwrap(),
            "one two..."
        );
    }
}
