//! SHA-crypt (`$5$`, `$6$`), as passlib computes it for Ansible's `password_hash` filter: the
//! same password, salt and rounds give the same hash, so a `user:` task stays unchanged when a
//! play moves from Ansible to drover. Also MD5-crypt (`$1$`, and Apache's `$apr1$`) and the other
//! hashes an htpasswd file holds, with [`verify`] for any of them.

use sha2::digest::Digest;
use sha2::{Sha256, Sha512};

/// crypt's base-64 alphabet.
const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The rounds SHA-crypt uses when the hash does not say (`$6$salt$...`).
pub const IMPLICIT_ROUNDS: u32 = 5000;

/// A SHA-crypt variant: its digest, id and the byte order of its encoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Variant {
    /// `$5$`, SHA-256.
    Sha256,
    /// `$6$`, SHA-512.
    Sha512,
}

impl Variant {
    /// passlib's default rounds, which Ansible's password_hash uses when none are given.
    pub fn default_rounds(self) -> u32 {
        match self {
            Variant::Sha256 => 535_000,
            Variant::Sha512 => 656_000,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Variant::Sha256 => "5",
            Variant::Sha512 => "6",
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Variant::Sha256 => hash_parts::<Sha256>(parts),
            Variant::Sha512 => hash_parts::<Sha512>(parts),
        }
    }

    /// Byte groups of the final digest, in the order the encoding takes them: group `i` is bytes
    /// `i`, `i + n` and `i + 2n`, rotated by `i % 3` (each variant its own way, as glibc's table).
    fn order(self) -> Vec<[usize; 3]> {
        let (n, rotate): (usize, Rotation) = match self {
            Variant::Sha256 => (10, |[a, b, c], i| match i % 3 {
                0 => [a, b, c],
                1 => [c, a, b],
                _ => [b, c, a],
            }),
            Variant::Sha512 => (21, |[a, b, c], i| match i % 3 {
                0 => [a, b, c],
                1 => [b, c, a],
                _ => [c, a, b],
            }),
        };
        (0..n).map(|i| rotate([i, i + n, i + 2 * n], i)).collect()
    }
}

/// How a group's three bytes are ordered, by the group's index.
type Rotation = fn([usize; 3], usize) -> [usize; 3];

fn hash_parts<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = D::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().to_vec()
}

/// `len` bytes of `block` repeated.
fn repeat(block: &[u8], len: usize) -> Vec<u8> {
    block.iter().copied().cycle().take(len).collect()
}

fn encode(out: &mut String, w: u32, chars: usize) {
    let mut w = w;
    for _ in 0..chars {
        out.push(ALPHABET[(w & 0x3f) as usize] as char);
        w >>= 6;
    }
}

/// The hash, as `$6$rounds=N$salt$digest` (no `rounds=` when they are the implicit 5000). The salt
/// is at most 16 characters of crypt's alphabet.
pub fn sha_crypt(variant: Variant, password: &[u8], salt: &str, rounds: u32) -> String {
    let salt = &salt.as_bytes()[..salt.len().min(16)];
    let v = variant;
    let b = v.digest(&[password, salt, password]);
    let mut a_parts: Vec<&[u8]> = vec![password, salt];
    let b_rep = repeat(&b, password.len());
    a_parts.push(&b_rep);
    let mut n = password.len();
    while n > 0 {
        a_parts.push(if n & 1 == 1 { &b } else { password });
        n >>= 1;
    }
    let a = v.digest(&a_parts);
    let dp = v.digest(&vec![password; password.len()]);
    let p = repeat(&dp, password.len());
    let ds = v.digest(&vec![salt; 16 + usize::from(a[0])]);
    let s = repeat(&ds, salt.len());
    let mut c = a;
    for i in 0..rounds {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(4);
        parts.push(if i % 2 == 1 { &p } else { &c });
        if i % 3 != 0 {
            parts.push(&s);
        }
        if i % 7 != 0 {
            parts.push(&p);
        }
        parts.push(if i % 2 == 1 { &c } else { &p });
        c = v.digest(&parts);
    }
    let mut out = format!("${}$", v.id());
    if rounds != IMPLICIT_ROUNDS {
        out.push_str(&format!("rounds={rounds}$"));
    }
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    for [x, y, z] in v.order() {
        encode(
            &mut out,
            (u32::from(c[x]) << 16) | (u32::from(c[y]) << 8) | u32::from(c[z]),
            4,
        );
    }
    match v {
        Variant::Sha256 => encode(&mut out, (u32::from(c[31]) << 8) | u32::from(c[30]), 3),
        Variant::Sha512 => encode(&mut out, u32::from(c[63]), 2),
    }
    out
}

/// MD5-crypt (`magic` `$1$`) or Apache's variant of it (`$apr1$`), with at most 8 characters of
/// salt, as glibc, Apache and passlib compute it.
pub fn md5_crypt(magic: &str, password: &[u8], salt: &str) -> String {
    let salt = &salt.as_bytes()[..salt.len().min(8)];
    let alternate = md5::compute([password, salt, password].concat()).0;
    let mut first = [password, magic.as_bytes(), salt].concat();
    first.extend(repeat(&alternate, password.len()));
    let mut n = password.len();
    while n > 0 {
        first.push(if n & 1 == 1 { 0 } else { password[0] });
        n >>= 1;
    }
    let mut c = md5::compute(&first).0;
    for i in 0..1000 {
        let mut round = Vec::with_capacity(2 * password.len() + 32);
        round.extend_from_slice(if i % 2 == 1 { password } else { &c });
        if i % 3 != 0 {
            round.extend_from_slice(salt);
        }
        if i % 7 != 0 {
            round.extend_from_slice(password);
        }
        round.extend_from_slice(if i % 2 == 1 { &c } else { password });
        c = md5::compute(&round).0;
    }
    let mut out = format!("{magic}{}$", String::from_utf8_lossy(salt));
    for [x, y, z] in [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]] {
        encode(
            &mut out,
            (u32::from(c[x]) << 16) | (u32::from(c[y]) << 8) | u32::from(c[z]),
            4,
        );
    }
    encode(&mut out, u32::from(c[11]), 2);
    out
}

/// A hash scheme of an htpasswd file, as passlib names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `$apr1$`: Apache's default.
    AprMd5Crypt,
    /// `$1$`.
    Md5Crypt,
    /// `$5$`.
    Sha256Crypt,
    /// `$6$`.
    Sha512Crypt,
    /// `$2y$`, cost 12 (passlib's default for Apache).
    Bcrypt,
    /// `{SHA}` and the password's SHA-1 in base 64.
    LdapSha1,
    /// The password itself.
    Plaintext,
}

impl Scheme {
    /// The scheme passlib calls `name`.
    pub fn named(name: &str) -> Option<Scheme> {
        Some(match name {
            "apr_md5_crypt" => Scheme::AprMd5Crypt,
            "md5_crypt" => Scheme::Md5Crypt,
            "sha256_crypt" => Scheme::Sha256Crypt,
            "sha512_crypt" => Scheme::Sha512Crypt,
            "bcrypt" => Scheme::Bcrypt,
            "ldap_sha1" => Scheme::LdapSha1,
            "plaintext" => Scheme::Plaintext,
            _ => return None,
        })
    }

    /// `password` hashed with a fresh random salt.
    pub fn hash(self, password: &str) -> Result<String, String> {
        let salt = || random_salt().map_err(|e| format!("no random source: {e}"));
        let pw = password.as_bytes();
        Ok(match self {
            Scheme::AprMd5Crypt => md5_crypt("$apr1$", pw, &salt()?),
            Scheme::Md5Crypt => md5_crypt("$1$", pw, &salt()?),
            Scheme::Sha256Crypt => sha_crypt(
                Variant::Sha256,
                pw,
                &salt()?,
                Variant::Sha256.default_rounds(),
            ),
            Scheme::Sha512Crypt => sha_crypt(
                Variant::Sha512,
                pw,
                &salt()?,
                Variant::Sha512.default_rounds(),
            ),
            Scheme::Bcrypt => {
                let mut raw = [0u8; 16];
                getrandom::fill(&mut raw).map_err(|e| format!("no random source: {e}"))?;
                bcrypt::hash_with_salt(pw, 12, raw)
                    .map_err(|e| e.to_string())?
                    .format_for_version(bcrypt::Version::TwoY)
            }
            Scheme::LdapSha1 => ldap_sha1(pw),
            Scheme::Plaintext => password.to_string(),
        })
    }
}

fn ldap_sha1(password: &[u8]) -> String {
    use base64::Engine;
    let digest = sha1::Sha1::digest(password);
    format!(
        "{{SHA}}{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Whether `hash` (of any scheme an htpasswd file holds, told by its prefix; anything else is
/// read as plain text, as passlib reads it) is the hash of `password`.
pub fn verify(hash: &str, password: &str) -> bool {
    let pw = password.as_bytes();
    let field = |n: usize| hash.split('$').nth(n).unwrap_or_default();
    if let Some(magic) = ["$apr1$", "$1$"].into_iter().find(|m| hash.starts_with(m)) {
        return md5_crypt(magic, pw, field(2)) == hash;
    }
    if hash.starts_with("$2") {
        return bcrypt::verify(pw, hash).unwrap_or(false);
    }
    for (prefix, variant) in [("$5$", Variant::Sha256), ("$6$", Variant::Sha512)] {
        if hash.starts_with(prefix) {
            let (rounds, salt) = match field(2).strip_prefix("rounds=") {
                Some(r) => (r.parse().unwrap_or(IMPLICIT_ROUNDS), field(3)),
                None => (IMPLICIT_ROUNDS, field(2)),
            };
            return sha_crypt(variant, pw, salt, rounds) == hash;
        }
    }
    if hash.starts_with("{SHA}") {
        return ldap_sha1(pw) == hash;
    }
    hash == password
}

/// Whether `salt` is one passlib accepts: crypt's alphabet only.
pub fn valid_salt(salt: &str) -> bool {
    salt.bytes().all(|b| ALPHABET.contains(&b))
}

/// A fresh 16-character salt from the OS's random source.
pub fn random_salt() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % 64] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APR1: &str = "$apr1$saltsalt$x78Y39ym2RjUNQHTLgwHz/";
    const MD5: &str = "$1$saltsalt$6SNdNaZLKst2LlSm7oPPL1";

    /// What `openssl passwd -apr1 -salt saltsalt pw` and `openssl passwd -1 -salt saltsalt pw`
    /// print (and what passlib's apr_md5_crypt and md5_crypt give).
    #[test]
    fn md5_crypt_is_openssls() {
        assert_eq!(md5_crypt("$apr1$", b"pw", "saltsalt"), APR1);
        assert_eq!(md5_crypt("$1$", b"pw", "saltsalt"), MD5);
    }

    #[test]
    fn every_scheme_verifies_what_it_hashed_and_nothing_else() {
        for name in [
            "apr_md5_crypt",
            "md5_crypt",
            "sha256_crypt",
            "bcrypt",
            "ldap_sha1",
            "plaintext",
        ] {
            let scheme = Scheme::named(name).unwrap();
            let hash = scheme.hash("s3cret").unwrap();
            assert!(verify(&hash, "s3cret"), "{name}: {hash}");
            assert!(!verify(&hash, "s3cret2"), "{name}: {hash}");
        }
        assert!(verify(APR1, "pw") && verify(MD5, "pw"));
        assert!(verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "password"));
        assert!(!verify("$apr1$saltsalt$x78Y39ym2RjUNQHTLgwHz0", "pw"));
    }

    /// What passlib (through ansible-core 2.19's password_hash) and glibc's crypt give.
    #[test]
    fn hashes_match_passlib_and_crypt() {
        assert_eq!(
            sha_crypt(Variant::Sha512, b"pw", "saltsalt", 656_000),
            "$6$rounds=656000$saltsalt$JEklmo18QDRJICgly.JaHaLrPMO2enY/zqc7n8wa/M1Pm/3o//x2DcpQ/Y2KkrrP./b2XHUSe09sxTJiD5VWx1"
        );
        assert_eq!(
            sha_crypt(Variant::Sha256, b"pw", "saltsalt", 535_000),
            "$5$rounds=535000$saltsalt$DV/wdBU9TkuhhcQfLffJ5EE3oF.grHgoEMJBmRv0tP2"
        );
        assert_eq!(
            sha_crypt(Variant::Sha512, b"pw", "saltsalt", 10_000),
            "$6$rounds=10000$saltsalt$PCkl82bcVNZUyS5el2MR9Coq8KSFAH2TLAV2NKcVGH1Dq51jMRJNvf2NrUOE/Sv9WOINUlZWqywN9lCRzMZF.1"
        );
        // Drepper's reference vector.
        assert_eq!(
            sha_crypt(Variant::Sha512, b"Hello world!", "saltstring", 5000),
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
        );
    }
}
