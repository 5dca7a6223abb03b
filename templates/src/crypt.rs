//! SHA-crypt (`$5$`, `$6$`), as passlib computes it for Ansible's `password_hash` filter: the
//! same password, salt and rounds give the same hash, so a `user:` task stays unchanged when a
//! play moves from Ansible to drover.

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
