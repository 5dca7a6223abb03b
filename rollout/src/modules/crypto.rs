//! community.crypto's keys, CSRs and certificates, made on the host by its `openssl` (Debian's
//! openssl 3): no Python cryptography there. A private key never leaves the host: it is made in a
//! shell variable and written through a private temporary file. CSRs and certificates are public:
//! the host makes a candidate and says whether the existing one still matches, and drover writes
//! the result as the file modules write files (mode, owner, group, check mode, diff).
//! Passphrases reach openssl in its environment (`env:`), read from standard input: never on a
//! command line.

use std::collections::BTreeMap;

use drover_ssh::shell::{quote, temp_path, write_via};
use serde_json::{Value, json};

use super::files::{FileTarget, FileTime, ensure_content, file_command};
use super::{Args, ModuleCtx, Outcome};

/// The environment variable a passphrase travels in.
const PASS: &str = "DROVER_KEY_PASS";

/// Reads the passphrase (the first line of standard input) into [`PASS`].
fn read_pass() -> String {
    format!("IFS= read -r {PASS} || :; export {PASS}; ")
}

/// community.crypto's curve names as openssl knows them.
fn openssl_curve(curve: &str) -> Option<&'static str> {
    Some(match curve {
        "secp256r1" | "prime256v1" => "prime256v1",
        "secp384r1" => "secp384r1",
        "secp521r1" => "secp521r1",
        "secp224r1" => "secp224r1",
        "secp192r1" | "prime192v1" => "prime192v1",
        "secp256k1" => "secp256k1",
        "brainpoolP256r1" => "brainpoolP256r1",
        "brainpoolP384r1" => "brainpoolP384r1",
        "brainpoolP512r1" => "brainpoolP512r1",
        _ => return None,
    })
}

/// What a private key must be.
#[derive(Debug, Clone, PartialEq)]
struct KeySpec {
    /// RSA, ECC, Ed25519, Ed448, X25519, X448.
    kind: String,
    /// RSA's bits.
    size: u32,
    /// ECC's curve, as openssl names it.
    curve: Option<&'static str>,
    /// PKCS#1 (traditional) rather than PKCS#8.
    traditional: bool,
    /// Encrypted with a passphrase.
    encrypted: bool,
}

impl KeySpec {
    fn from_args(args: &Args) -> Result<KeySpec, String> {
        let kind = args.str("type").unwrap_or_else(|| "RSA".into());
        let size = match args.num("size") {
            None => 4096,
            Some(n) if (1024.0..=16384.0).contains(&n) && n.fract() == 0.0 => n as u32,
            Some(n) => {
                return Err(format!(
                    "`size: {n}` is not a key size in bits (1024 to 16384)"
                ));
            }
        };
        let curve = match (kind.as_str(), args.str("curve")) {
            ("ECC", None) => return Err("type ECC needs `curve`".into()),
            ("ECC", Some(c)) => Some(
                openssl_curve(&c).ok_or_else(|| format!("curve `{c}` is not one drover knows"))?,
            ),
            _ => None,
        };
        let traditional = match args.str("format").as_deref() {
            None | Some("auto_ignore" | "auto") => matches!(kind.as_str(), "RSA" | "ECC"),
            Some("pkcs1") => true,
            _ => false,
        };
        if traditional && !matches!(kind.as_str(), "RSA" | "ECC") {
            return Err(format!(
                "a {kind} key has no PKCS#1 format; use format: pkcs8"
            ));
        }
        Ok(KeySpec {
            kind,
            size,
            curve,
            traditional,
            encrypted: args.str("passphrase").is_some(),
        })
    }

    /// The pipeline that prints a new key in its format.
    fn generate(&self) -> String {
        let algorithm = match self.kind.as_str() {
            "RSA" => format!("-algorithm RSA -pkeyopt rsa_keygen_bits:{}", self.size),
            "ECC" => format!(
                "-algorithm EC -pkeyopt ec_paramgen_curve:{} -pkeyopt ec_param_enc:named_curve",
                self.curve.unwrap_or("prime256v1")
            ),
            other => format!("-algorithm {}", other.to_uppercase()),
        };
        let traditional = if self.traditional {
            " -traditional"
        } else {
            ""
        };
        let cipher = if self.encrypted {
            format!(" -aes256 -passout env:{PASS}")
        } else {
            String::new()
        };
        format!("openssl genpkey {algorithm} 2>/dev/null | openssl pkey{traditional}{cipher}")
    }

    /// Whether the key a probe described (see [`probe_key`]) is this one: its type, size and
    /// curve; with `full`, its format and encryption too.
    fn matches(&self, probe: &BTreeMap<String, String>, full: bool) -> bool {
        let text = probe.get("pub").map(String::as_str).unwrap_or_default();
        let kind_ok = match self.kind.as_str() {
            "RSA" => {
                text.contains("Modulus:")
                    && text.contains(&format!("Public-Key: ({} bit)", self.size))
            }
            "ECC" => self
                .curve
                .is_some_and(|c| text.contains(&format!("ASN1 OID: {c}"))),
            other => text.contains(&format!("{} Public-Key:", other.to_uppercase())),
        };
        if !kind_ok || !full {
            return kind_ok;
        }
        let header = probe.get("header").map(String::as_str).unwrap_or_default();
        let encrypted = header.contains("ENCRYPTED")
            || probe.get("second").is_some_and(|l| l.contains("ENCRYPTED"));
        let traditional = !header.contains("BEGIN PRIVATE KEY")
            && !header.contains("BEGIN ENCRYPTED PRIVATE KEY");
        encrypted == self.encrypted && traditional == self.traditional
    }
}

/// A script that says what the key at `path` is, without any of its secret: `state=absent`,
/// `state=unreadable` (broken, or another passphrase), or its public key's description, and the
/// file's first two lines (the PEM header: its format and encryption).
fn probe_key(path: &str) -> String {
    let p = quote(path);
    format!(
        "{}if [ ! -e {p} ]; then echo state=absent; exit 0; fi; \
         if pub=$(openssl pkey -in {p} -passin env:{PASS} -pubout 2>/dev/null) && [ -n \"$pub\" ]; then \
         echo state=readable; printf '%s\\n' \"$pub\" | openssl pkey -pubin -noout -text 2>/dev/null | grep -E '^(Public-Key|[A-Z0-9]+ Public-Key|Modulus|ASN1 OID)' | sed 's/^/pub=/'; \
         else echo state=unreadable; fi; \
         echo \"header=$(head -n 1 -- {p})\"; echo \"second=$(sed -n 2p -- {p})\"",
        read_pass()
    )
}

/// The probe's `key=value` lines (`pub` lines joined).
fn parse_probe(text: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            let entry = out.entry(k.to_string()).or_default();
            if !entry.is_empty() {
                entry.push('\n');
            }
            entry.push_str(v);
        }
    }
    out
}

/// The script that makes the key and writes it to `path` (mode `mode`), never through a link.
fn write_key(spec: &KeySpec, path: &str, mode: u32) -> String {
    format!(
        "{}umask 077; key=$({}) && [ -n \"$key\" ] || {{ echo 'openssl could not make the key' >&2; exit 1; }}; printf '%s\\n' \"$key\" | {{ {}; }}",
        read_pass(),
        spec.generate(),
        write_via(path, &temp_path(path), &format!("{mode:o}"), None)
    )
}

/// The passphrase line for standard input.
fn pass_input(args: &Args, key: &str) -> Vec<u8> {
    let mut line = args.str(key).unwrap_or_default().into_bytes();
    line.push(b'\n');
    line
}

/// Removes `path` (state absent).
async fn remove(path: &str, ctx: &ModuleCtx<'_>) -> Outcome {
    let p = quote(path);
    let act = if ctx.check {
        "echo changed"
    } else {
        "rm -f -- \"$p\" && echo changed"
    };
    let cmd = format!("p={p}; if [ -e \"$p\" ] || [ -L \"$p\" ]; then {act}; fi");
    match ctx.output_of(&cmd, "cannot remove the file").await {
        Ok(out) => Outcome {
            changed: String::from_utf8_lossy(&out).contains("changed"),
            ..Outcome::default()
        },
        Err(e) => Outcome::fail(e),
    }
}

fn wants_absent(args: &Args) -> bool {
    args.str("state").as_deref() == Some("absent")
}

/// `openssl_privatekey`.
pub async fn privatekey(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.str("path") else {
        return Outcome::bad_input("openssl_privatekey needs `path`");
    };
    if wants_absent(args) {
        return remove(&path, ctx).await;
    }
    let spec = match KeySpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("openssl_privatekey: {e}")),
    };
    let mode = match args.mode("mode") {
        Ok(m) => m.unwrap_or(0o600),
        Err(e) => return Outcome::bad_input(format!("openssl_privatekey: {e}")),
    };
    let pass = pass_input(args, "passphrase");
    let probe = match ctx
        .output_with(
            &probe_key(&path),
            &pass,
            "openssl_privatekey: cannot read the key",
        )
        .await
    {
        Ok(out) => parse_probe(&String::from_utf8_lossy(&out)),
        Err(e) => return Outcome::fail(e),
    };
    let regenerate = match (args.bool("force"), args.str("regenerate")) {
        (Some(true), _) => "always".to_string(),
        (_, r) => r.unwrap_or_else(|| "partial_idempotence".into()),
    };
    let exists = probe.get("state").map(String::as_str) != Some("absent");
    let fits = probe.get("state").map(String::as_str) == Some("readable")
        && spec.matches(&probe, regenerate == "full_idempotence");
    let make = match regenerate.as_str() {
        "always" => true,
        "never" => !exists,
        "fail" if exists && !fits => {
            return Outcome::fail(format!(
                "{path} is not a key of the type and size asked for, and regenerate is fail"
            ));
        }
        _ => !fits,
    };
    let mut out = if !make {
        Outcome::default()
    } else if ctx.check {
        Outcome {
            changed: true,
            ..Outcome::default()
        }
    } else {
        match ctx
            .output_with(&write_key(&spec, &path, mode), &pass, "openssl_privatekey")
            .await
        {
            Ok(_) => Outcome {
                changed: true,
                ..Outcome::default()
            },
            Err(e) => return Outcome::fail(e),
        }
    };
    // Mode, owner and group of a key that was kept (a new one has its mode already).
    let attrs = (Some(mode), args.str("owner"), args.str("group"));
    let fix = file_command(
        &path,
        "file",
        (attrs.0, attrs.1.as_deref(), attrs.2.as_deref()),
        None,
        (&FileTime::Preserve, &FileTime::Preserve),
        ctx.check,
    );
    if exists || !ctx.check {
        match fix {
            Ok(cmd) => match ctx
                .output_of(
                    &cmd,
                    "openssl_privatekey: cannot set the key's mode or owner",
                )
                .await
            {
                Ok(o) => out.changed |= String::from_utf8_lossy(&o).contains("changed"),
                Err(e) => return Outcome::fail(e),
            },
            Err(e) => return Outcome::bad_input(e),
        }
    }
    out.result.insert("filename".into(), json!(path));
    out.result.insert("type".into(), json!(spec.kind));
    if spec.kind == "RSA" {
        out.result.insert("size".into(), json!(spec.size));
    }
    if let Some(curve) = args.str("curve") {
        out.result.insert("curve".into(), json!(curve));
    }
    out
}

/// community.crypto's key usage names (either spelling) as openssl's.
fn key_usage(name: &str) -> Option<&'static str> {
    let plain: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match plain.as_str() {
        "digitalsignature" => "digitalSignature",
        "nonrepudiation" | "contentcommitment" => "nonRepudiation",
        "keyencipherment" => "keyEncipherment",
        "dataencipherment" => "dataEncipherment",
        "keyagreement" => "keyAgreement",
        "keycertsign" | "certificatesign" => "keyCertSign",
        "crlsign" => "cRLSign",
        "encipheronly" => "encipherOnly",
        "decipheronly" => "decipherOnly",
        _ => return None,
    })
}

/// Extended key usages: short names, their long names, or OIDs.
fn extended_key_usage(name: &str) -> Option<String> {
    let known = [
        ("serverAuth", "TLS Web Server Authentication"),
        ("clientAuth", "TLS Web Client Authentication"),
        ("codeSigning", "Code Signing"),
        ("emailProtection", "E-mail Protection"),
        ("timeStamping", "Time Stamping"),
        ("OCSPSigning", "OCSP Signing"),
        ("ipsecIKE", "ipsec Internet Key Exchange"),
        ("msCodeInd", "Microsoft Individual Code Signing"),
        ("msCodeCom", "Microsoft Commercial Code Signing"),
        ("msEFS", "Microsoft Encrypted File System"),
        ("anyExtendedKeyUsage", "Any Extended Key Usage"),
    ];
    if let Some((short, _)) = known
        .iter()
        .find(|(s, l)| s.eq_ignore_ascii_case(name) || l.eq_ignore_ascii_case(name))
    {
        return Some((*short).to_string());
    }
    let oid = !name.is_empty()
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    oid.then(|| name.to_string())
}

/// The `-subj` argument: each value's `/`, `+` and `\` escaped, as openssl reads it.
fn subject(args: &Args) -> Result<String, String> {
    let named = [
        ("C", "country_name"),
        ("ST", "state_or_province_name"),
        ("L", "locality_name"),
        ("O", "organization_name"),
        ("OU", "organizational_unit_name"),
        ("CN", "common_name"),
        ("emailAddress", "email_address"),
    ];
    let mut parts: Vec<(String, String)> = named
        .iter()
        .filter_map(|(short, key)| args.str(key).map(|v| (short.to_string(), v)))
        .collect();
    if let Some(Value::Object(more)) = args.0.get("subject") {
        for (k, v) in more {
            let short = match k.as_str() {
                "commonName" => "CN",
                "countryName" => "C",
                "stateOrProvinceName" => "ST",
                "localityName" => "L",
                "organizationName" => "O",
                "organizationalUnitName" => "OU",
                "emailAddress" => "emailAddress",
                other if other.bytes().all(|b| b.is_ascii_alphanumeric()) => other,
                other => return Err(format!("`{other}` is not a subject name")),
            };
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            parts.push((short.to_string(), v));
        }
    }
    if parts.is_empty() {
        return Ok("/".into());
    }
    let esc = |v: &str| {
        v.chars().fold(String::new(), |mut s, c| {
            if matches!(c, '/' | '+' | '\\' | ',') {
                s.push('\\');
            }
            s.push(c);
            s
        })
    };
    Ok(parts
        .iter()
        .map(|(k, v)| format!("/{k}={}", esc(v)))
        .collect())
}

/// The `-addext` arguments of a CSR.
fn extensions(args: &Args) -> Result<Vec<String>, String> {
    let critical = |key: &str| {
        if args.bool(key) == Some(true) {
            "critical,"
        } else {
            ""
        }
    };
    let mut out = Vec::new();
    let mut sans = args.list("subject_alt_name");
    if sans.is_empty()
        && args.bool("use_common_name_for_san") != Some(false)
        && let Some(cn) = args.str("common_name")
    {
        sans.push(format!("DNS:{cn}"));
    }
    for san in &sans {
        let ok = [
            "DNS:",
            "IP:",
            "email:",
            "URI:",
            "RID:",
            "dirName:",
            "otherName:",
        ]
        .iter()
        .any(|p| san.starts_with(p));
        if !ok || san.contains(',') {
            return Err(format!(
                "`{san}` is not a subject alternative name (DNS:..., IP:..., email:..., URI:...)"
            ));
        }
    }
    if !sans.is_empty() {
        out.push(format!(
            "subjectAltName={}{}",
            critical("subject_alt_name_critical"),
            sans.join(",")
        ));
    }
    // `name=[critical,]a,b` from the list `key` (each item as `known` names it), when it has any.
    let listed = |(name, key, critical_key): (&str, &str, &str),
                  known: &dyn Fn(&str) -> Option<String>,
                  what: &str| {
        let items = args
            .list(key)
            .iter()
            .map(|u| known(u).ok_or_else(|| format!("`{u}` is not {what}")))
            .collect::<Result<Vec<_>, _>>()?;
        let critical = critical(critical_key);
        Ok::<_, String>(
            (!items.is_empty()).then(|| format!("{name}={critical}{}", items.join(","))),
        )
    };
    let usage = |u: &str| key_usage(u).map(str::to_string);
    out.extend(listed(
        ("keyUsage", "key_usage", "key_usage_critical"),
        &usage,
        "a key usage",
    )?);
    out.extend(listed(
        (
            "extendedKeyUsage",
            "extended_key_usage",
            "extended_key_usage_critical",
        ),
        &extended_key_usage,
        "an extended key usage",
    )?);
    let constraints = args.list("basic_constraints");
    for c in &constraints {
        let ok = matches!(c.to_ascii_uppercase().as_str(), "CA:TRUE" | "CA:FALSE")
            || c.strip_prefix("pathlen:")
                .is_some_and(|n| n.parse::<u32>().is_ok());
        if !ok {
            return Err(format!(
                "`{c}` is not a basic constraint (CA:TRUE, CA:FALSE, pathlen:N)"
            ));
        }
    }
    if !constraints.is_empty() {
        out.push(format!(
            "basicConstraints={}{}",
            critical("basic_constraints_critical"),
            constraints.join(",")
        ));
    }
    Ok(out)
}

/// A digest openssl takes as `-<name>`.
fn digest(args: &Args, key: &str) -> Result<String, String> {
    let d = args.str(key).unwrap_or_else(|| "sha256".into());
    let ok = ["sha1", "sha224", "sha256", "sha384", "sha512"].contains(&d.as_str());
    ok.then(|| d.clone()).ok_or_else(|| {
        format!("`{key}: {d}` is not a digest drover offers (sha256, sha384, sha512, ...)")
    })
}

/// Prints a CSR's text without its signature, for comparing two.
const CSR_TEXT: &str =
    "openssl req -noout -text -nameopt RFC2253 2>/dev/null | sed '/^    Signature Algorithm/,$d'";

/// The script that makes a candidate CSR and prints it, and `same` when the existing one (a
/// file, or the content given, as `$old`) says the same.
fn csr_script(args: &Args, old: &str) -> Result<String, String> {
    let key = args
        .str("privatekey_path")
        .ok_or("needs `privatekey_path` (the key on the host)")?;
    let mut cmd = format!(
        "openssl req -new -key {} -passin env:{PASS} -utf8 -subj {} -{}",
        quote(&key),
        quote(&subject(args)?),
        digest(args, "digest")?
    );
    for ext in extensions(args)? {
        cmd.push_str(&format!(" -addext {}", quote(&ext)));
    }
    Ok(format!(
        "{}{old} new=$({cmd} 2>&1) || {{ printf '%s\\n' \"$new\" >&2; exit 1; }}; \
         if [ -n \"$old\" ] && [ \"$(printf '%s\\n' \"$old\" | {CSR_TEXT})\" = \"$(printf '%s\\n' \"$new\" | {CSR_TEXT})\" ]; then echo same; fi; \
         printf '%s\\n' \"$new\"",
        read_pass()
    ))
}

/// What a candidate script printed: whether the existing one matches, and the candidate.
fn candidate(out: &[u8]) -> (bool, String) {
    let text = String::from_utf8_lossy(out);
    match text.strip_prefix("same\n") {
        Some(pem) => (true, pem.to_string()),
        None => (false, text.into_owned()),
    }
}

/// `openssl_csr` and `openssl_csr_pipe`.
pub async fn csr(args: &Args, ctx: &ModuleCtx<'_>, pipe: bool) -> Outcome {
    let what = if pipe {
        "openssl_csr_pipe"
    } else {
        "openssl_csr"
    };
    let path = args.str("path");
    if !pipe {
        let Some(path) = &path else {
            return Outcome::bad_input("openssl_csr needs `path`");
        };
        if wants_absent(args) {
            return remove(path, ctx).await;
        }
    }
    let old = match (&path, args.str("content")) {
        (Some(p), _) if !pipe => format!("old=$(cat -- {} 2>/dev/null || :);", quote(p)),
        (_, Some(content)) => format!("old={};", quote(&content)),
        _ => "old=;".into(),
    };
    let script = match csr_script(args, &old) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("{what}: {e}")),
    };
    let made = ctx
        .output_with(
            &script,
            &pass_input(args, "privatekey_passphrase"),
            &format!("{what}: openssl could not make the CSR"),
        )
        .await;
    let (same, pem) = match made {
        Ok(out) => candidate(&out),
        Err(e) => return Outcome::fail(e),
    };
    let keep = same && args.bool("force") != Some(true);
    if pipe {
        let csr = if keep {
            args.str("content").unwrap_or(pem)
        } else {
            pem
        };
        let mut out = Outcome {
            changed: !keep,
            ..Outcome::default()
        };
        out.result.insert("csr".into(), json!(csr));
        return out;
    }
    let path = path.unwrap_or_default();
    write_public(args, ctx, &path, keep, pem, what, "csr").await
}

/// Writes a CSR or certificate as the file modules write files: the existing one when it still
/// matches (its mode and owner fixed), the candidate otherwise.
async fn write_public(
    args: &Args,
    ctx: &ModuleCtx<'_>,
    path: &str,
    keep: bool,
    pem: String,
    what: &str,
    key: &str,
) -> Outcome {
    let target = match FileTarget::from_args(path.to_string(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("{what}: {e}")),
    };
    let content = if keep {
        match ctx
            .output_of(&format!("cat -- {}", quote(path)), what)
            .await
        {
            Ok(c) => c,
            Err(e) => return Outcome::fail(e),
        }
    } else {
        pem.into_bytes()
    };
    let mut out = ensure_content(ctx, &target, &content).await;
    out.result.insert("filename".into(), json!(path));
    if args.bool("return_content") == Some(true) {
        out.result
            .insert(key.into(), json!(String::from_utf8_lossy(&content)));
    }
    out
}

/// A relative end of validity (`+3650d`, `+52w`, `+1w2d`) in whole days.
fn days(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a relative time drover takes (such as +3650d or +52w)");
    let rest = text.strip_prefix('+').ok_or_else(bad)?;
    let (mut total, mut number) = (0u64, String::new());
    for c in rest.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        total += match c {
            'w' => n * 7,
            'd' => n,
            _ => return Err(bad()),
        };
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(total)
}

/// Checks a `*_not_before`: `openssl x509 -req` (OpenSSL 3.0, Debian 12's) starts a
/// certificate now and cannot be told otherwise, so only a relative time of zero (`+0s`, as
/// roles write it to mean now) is taken; any other start is refused rather than ignored.
fn starts_now(text: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or("");
    let zero = !rest.is_empty()
        && rest.chars().next().is_some_and(|c| c.is_ascii_digit())
        && rest
            .split(|c: char| "wdhms".contains(c))
            .all(|n| n.is_empty() || n.chars().all(|c| c == '0'))
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || "wdhms".contains(c));
    if zero {
        Ok(())
    } else {
        Err(format!(
            "a start of validity `{text}` other than now (+0s) is not one drover can set: the host's openssl starts a certificate when it signs it"
        ))
    }
}

/// A shell function that prints the extensions of a certificate's or CSR's text (standard
/// input), less the key identifiers that signing adds: what a certificate copies from its CSR.
const EXTENSIONS: &str = "ext() { awk '/X509v3 extensions:|Requested Extensions:/{on=1;next} /Signature Algorithm|Signature Value/{on=0} on{sub(/^ +/,\"\"); if ($0 ~ /Key Identifier/){skip=1;next} if(skip){skip=0;next} print}'; }";

/// The script that makes a candidate certificate from the CSR and prints it, and `same` when the
/// existing one still holds the CSR's subject, key and extensions and is signed as asked.
fn certificate_script(args: &Args, path: &str) -> Result<String, String> {
    let provider = args
        .str("provider")
        .ok_or("needs `provider` (selfsigned or ownca)")?;
    let csr_in = match (args.str("csr_path"), args.str("csr_content")) {
        (Some(p), _) => format!("csr=$(cat -- {})", quote(&p)),
        (None, Some(c)) => format!("csr={}", quote(&c)),
        (None, None) => return Err("needs `csr_path` or `csr_content`".into()),
    };
    for start in ["selfsigned_not_before", "ownca_not_before"] {
        args.str(start).map_or(Ok(()), |t| starts_now(&t))?;
    }
    let (sign, verify) = match provider.as_str() {
        "selfsigned" => {
            let key = args
                .str("privatekey_path")
                .ok_or("selfsigned needs `privatekey_path`")?;
            let days = days(
                &args
                    .str("selfsigned_not_after")
                    .unwrap_or_else(|| "+3650d".into()),
            )?;
            (
                format!(
                    "-signkey {} -passin env:{PASS} -days {days} -{}",
                    quote(&key),
                    digest(args, "selfsigned_digest")?
                ),
                "[ \"$(openssl x509 -in \"$p\" -noout -issuer -nameopt RFC2253)\" = \"issuer=$(openssl x509 -in \"$p\" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')\" ]".to_string(),
            )
        }
        "ownca" => {
            let ca = args.str("ownca_path").ok_or("ownca needs `ownca_path`")?;
            let ca_key = args
                .str("ownca_privatekey_path")
                .ok_or("ownca needs `ownca_privatekey_path`")?;
            let days = days(
                &args
                    .str("ownca_not_after")
                    .unwrap_or_else(|| "+3650d".into()),
            )?;
            (
                format!(
                    "-CA {} -CAkey {} -passin env:{PASS} -set_serial 0x$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n') -days {days} -{}",
                    quote(&ca),
                    quote(&ca_key),
                    digest(args, "ownca_digest")?
                ),
                format!(
                    "openssl verify -CAfile {} -partial_chain \"$p\" >/dev/null 2>&1",
                    quote(&ca)
                ),
            )
        }
        other => {
            return Err(format!(
                "provider `{other}` is not one drover has (selfsigned, ownca)"
            ));
        }
    };
    let from_csr = |what: &str| format!("$(printf '%s\\n' \"$csr\" | openssl req -noout {what})");
    let from_cert = |what: &str| format!("$(openssl x509 -in \"$p\" -noout {what})");
    let same = ["-subject -nameopt RFC2253", "-pubkey"]
        .iter()
        .map(|what| format!("[ \"{}\" = \"{}\" ]", from_cert(what), from_csr(what)))
        .collect::<Vec<_>>()
        .join(" && ");
    Ok(format!(
        "{}{EXTENSIONS}; p={}; {csr_in} || exit 1; \
         if [ -e \"$p\" ] && openssl x509 -in \"$p\" -noout 2>/dev/null && {verify} && {same} && \
         [ \"$(openssl x509 -in \"$p\" -noout -text | ext)\" = \"$(printf '%s\\n' \"$csr\" | openssl req -noout -text | ext)\" ]; then echo same; fi; \
         new=$(printf '%s\\n' \"$csr\" | openssl x509 -req -copy_extensions copy {sign} 2>&1) || {{ printf '%s\\n' \"$new\" >&2; exit 1; }}; \
         printf '%s\\n' \"$new\"",
        read_pass(),
        quote(path)
    ))
}

/// The script for `openssl_dhparam`: `same` when the file holds valid parameters of that size
/// (as the module's openssl backend checks them: `dhparam -check`, no WARNING), else new ones.
fn dhparam_script(path: &str, size: u32, force: bool) -> String {
    let keep = if force {
        String::new()
    } else {
        format!(
            "p={}; if [ -f \"$p\" ] && out=$(openssl dhparam -check -text -noout -in \"$p\" 2>&1) && \
             printf '%s\\n' \"$out\" | grep -qE 'Parameters: *\\({size} bit\\)' && \
             ! printf '%s\\n' \"$out\" | grep -q WARNING; then echo same; exit 0; fi; ",
            quote(path)
        )
    };
    format!("{keep}openssl dhparam {size} 2>/dev/null")
}

/// `openssl_dhparam`.
pub async fn dhparam(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.str("path") else {
        return Outcome::bad_input("openssl_dhparam needs `path`");
    };
    if wants_absent(args) {
        return remove(&path, ctx).await;
    }
    let size = match args.num("size") {
        None => 4096,
        Some(n) if n.fract() == 0.0 && (512.0..=16384.0).contains(&n) => n as u32,
        Some(n) => {
            return Outcome::bad_input(format!("openssl_dhparam: `size: {n}` is not a size"));
        }
    };
    // The parameters are made on the host; nothing asks `select_crypto_backend` anything else.
    let _ = args.str("select_crypto_backend");
    let force = args.bool("force") == Some(true);
    let script = dhparam_script(&path, size, force);
    let made = ctx
        .output_of(
            &script,
            "openssl_dhparam: openssl could not make the parameters",
        )
        .await;
    let (same, pem) = match made {
        Ok(out) => candidate(&out),
        Err(e) => return Outcome::fail(e),
    };
    write_public(args, ctx, &path, same, pem, "openssl_dhparam", "dhparams").await
}

/// `x509_certificate`.
pub async fn certificate(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.str("path") else {
        return Outcome::bad_input("x509_certificate needs `path`");
    };
    if wants_absent(args) {
        return remove(&path, ctx).await;
    }
    let script = match certificate_script(args, &path) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("x509_certificate: {e}")),
    };
    let pass = if args.str("provider").as_deref() == Some("ownca") {
        "ownca_privatekey_passphrase"
    } else {
        "privatekey_passphrase"
    };
    let made = ctx
        .output_with(
            &script,
            &pass_input(args, pass),
            "x509_certificate: openssl could not make the certificate",
        )
        .await;
    let (same, pem) = match made {
        Ok(out) => candidate(&out),
        Err(e) => return Outcome::fail(e),
    };
    let keep = same && args.bool("force") != Some(true);
    write_public(
        args,
        ctx,
        &path,
        keep,
        pem,
        "x509_certificate",
        "certificate",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;

    #[test]
    fn dh_parameters_are_kept_while_valid_and_of_their_size() {
        let kept = dhparam_script("/etc/nginx/dh.pem", 2048, false);
        assert!(
            kept.starts_with("p=/etc/nginx/dh.pem; if [ -f \"$p\" ]"),
            "{kept}"
        );
        assert!(kept.contains(r"Parameters: *\(2048 bit\)"), "{kept}");
        assert!(kept.ends_with("openssl dhparam 2048 2>/dev/null"), "{kept}");
        assert_eq!(
            dhparam_script("/x", 1024, true),
            "openssl dhparam 1024 2>/dev/null"
        );
    }

    #[test]
    fn only_a_start_of_now_is_taken() {
        for now in ["+0s", "+0", "-0d", "+0w0d0h0m0s"] {
            assert_eq!(starts_now(now), Ok(()), "{now}");
        }
        for other in ["+1d", "-1d", "20250101000000Z", "", "+", "+0x", "+s"] {
            assert!(starts_now(other).is_err(), "{other}");
        }
    }

    #[test]
    fn keys_are_made_as_asked_and_never_on_a_command_line() {
        let rsa = KeySpec::from_args(&args(
            json!({"path": "/k", "size": 2048, "passphrase": "s3cret"}),
        ))
        .unwrap();
        assert_eq!(
            rsa.generate(),
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -traditional -aes256 -passout env:DROVER_KEY_PASS"
        );
        let script = write_key(&rsa, "/etc/ssl/private/a key.pem", 0o600);
        assert!(!script.contains("s3cret"), "{script}");
        assert!(
            script.contains("(set -C && cat > '/etc/ssl/private/.a key.pem.drover-"),
            "{script}"
        );
        let ec = KeySpec::from_args(&args(
            json!({"path": "/k", "type": "ECC", "curve": "secp256r1"}),
        ))
        .unwrap();
        assert!(ec.generate().contains("ec_paramgen_curve:prime256v1"));
        let ed = KeySpec::from_args(&args(json!({"path": "/k", "type": "Ed25519"}))).unwrap();
        assert_eq!(
            ed.generate(),
            "openssl genpkey -algorithm ED25519 2>/dev/null | openssl pkey"
        );
        assert!(KeySpec::from_args(&args(json!({"type": "ECC"}))).is_err());
        assert!(KeySpec::from_args(&args(json!({"type": "Ed25519", "format": "pkcs1"}))).is_err());
    }

    #[test]
    fn an_existing_key_fits_by_type_size_and_curve() {
        let rsa = KeySpec::from_args(&args(json!({"size": 2048}))).unwrap();
        let probe = parse_probe(
            "state=readable\npub=Public-Key: (2048 bit)\npub=Modulus:\nheader=-----BEGIN RSA PRIVATE KEY-----\nsecond=MIIE\n",
        );
        assert!(rsa.matches(&probe, true));
        let bigger = KeySpec::from_args(&args(json!({}))).unwrap();
        assert!(!bigger.matches(&probe, false));
        let pkcs8 = parse_probe(
            "state=readable\npub=Public-Key: (2048 bit)\npub=Modulus:\nheader=-----BEGIN PRIVATE KEY-----\n",
        );
        assert!(rsa.matches(&pkcs8, false) && !rsa.matches(&pkcs8, true));
    }

    #[test]
    fn subjects_and_extensions_as_openssl_reads_them() {
        let a = args(json!({
            "common_name": "web/01", "organization_name": "A+B, Inc.",
            "subject": {"localityName": "Cluj"},
            "key_usage": ["Digital Signature", "keyEncipherment"],
            "extended_key_usage": ["TLS Web Server Authentication", "1.3.6.1.5.5.7.3.2"],
            "basic_constraints": ["CA:FALSE"], "basic_constraints_critical": true
        }));
        assert_eq!(subject(&a).unwrap(), "/O=A\\+B\\, Inc./CN=web\\/01/L=Cluj");
        assert_eq!(
            extensions(&a).unwrap(),
            [
                "subjectAltName=DNS:web/01",
                "keyUsage=digitalSignature,keyEncipherment",
                "extendedKeyUsage=serverAuth,1.3.6.1.5.5.7.3.2",
                "basicConstraints=critical,CA:FALSE"
            ]
        );
        assert!(extensions(&args(json!({"subject_alt_name": ["example.com"]}))).is_err());
        assert_eq!(days("+3650d"), Ok(3650));
        assert_eq!(days("+1w2d"), Ok(9));
        assert!(days("20301231235959Z").is_err());
    }
}
