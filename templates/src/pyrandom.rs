//! Python's `random.Random` (MT19937, seeded as CPython seeds it), so that `random(seed=...)` and
//! `shuffle(seed=...)` pick what Ansible picks for the same seed: `59 | random(seed=inventory_hostname)`
//! is a cron minute that must not move when a play moves from Ansible to drover.

use sha2::{Digest, Sha512};

const N: usize = 624;
const M: usize = 397;

/// A Mersenne Twister in CPython's state.
pub struct PyRandom {
    state: [u32; N],
    index: usize,
}

impl PyRandom {
    fn init_genrand(s: u32) -> PyRandom {
        let mut state = [0u32; N];
        state[0] = s;
        for i in 1..N {
            state[i] = 1_812_433_253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        PyRandom { state, index: N }
    }

    /// CPython's `init_by_array`.
    fn from_key(key: &[u32]) -> PyRandom {
        let mut r = PyRandom::init_genrand(19_650_218);
        let mt = &mut r.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        r
    }

    /// `Random(n)` for an integer: its magnitude's 32-bit words, least significant first.
    pub fn from_int(n: i128) -> PyRandom {
        let mut a = n.unsigned_abs();
        let mut key = Vec::new();
        while a > 0 {
            key.push(a as u32);
            a >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        PyRandom::from_key(&key)
    }

    /// `Random(s)` for a string (seed version 2): the text followed by its SHA-512, read as one
    /// big-endian integer.
    pub fn from_str(s: &str) -> PyRandom {
        let mut bytes = s.as_bytes().to_vec();
        bytes.extend_from_slice(&Sha512::digest(s.as_bytes()));
        // The integer's 32-bit words, least significant first: from the end of the bytes.
        let mut key: Vec<u32> = bytes
            .rchunks(4)
            .map(|c| c.iter().fold(0u32, |w, b| (w << 8) | u32::from(*b)))
            .collect();
        while key.len() > 1 && key.last() == Some(&0) {
            key.pop();
        }
        PyRandom::from_key(&key)
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            let mt = &mut self.state;
            for k in 0..N {
                let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % N] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `getrandbits(k)` for k up to 64.
    fn bits(&mut self, k: u32) -> u64 {
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32() >> (64 - k));
        (high << 32) | low
    }

    /// `_randbelow(n)`: uniform in [0, n), by rejection as CPython does.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.bits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `randrange(start, stop, step)`; none for an empty range, a zero step, or a result beyond
    /// 64 bits (computed wide: no overflow).
    pub fn randrange(&mut self, start: i64, stop: i64, step: i64) -> Option<i64> {
        let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
        let width = stop - start;
        let n = match step {
            0 => return None,
            1 => width,
            s if s > 0 => (width + s - 1).div_euclid(s),
            s => (width + s + 1).div_euclid(s),
        };
        if n <= 0 {
            return None;
        }
        let pick = i128::from(self.below(u64::try_from(n).ok()?));
        i64::try_from(start + step * pick).ok()
    }

    /// `shuffle(list)` in place: Fisher-Yates from the end.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values CPython 3.11 gives (and Ansible with them: `59 | random(seed='web01')` is 22).
    #[test]
    fn draws_match_cpython() {
        assert_eq!(PyRandom::from_str("web01").randrange(0, 59, 1), Some(22));
        assert_eq!(PyRandom::from_str("node2").randrange(0, 60, 1), Some(49));
        assert_eq!(PyRandom::from_int(7).randrange(10, 100, 5), Some(60));
        assert_eq!(
            PyRandom::from_int(5).randrange(0, 1 << 40, 1),
            Some(561_021_090_885)
        );
        let mut list = [1, 2, 3, 4, 5];
        PyRandom::from_str("web01").shuffle(&mut list);
        assert_eq!(list, [2, 5, 1, 4, 3]);
        assert_eq!(PyRandom::from_int(1).next_u32(), 577_090_037);
    }
}
