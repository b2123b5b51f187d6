//! Poly1305 (RFC 8439 section 2.5), the one-time authenticator of every CurveZMQ
//! box, in safe Rust with 64-bit limbs.
//!
//! The tag is `((m_1 r^q + m_2 r^(q-1) + ... + m_q r) mod 2^130-5) + s mod 2^128`,
//! where the key is `r || s`, `r` has 22 bits cleared ("clamped"), and each block
//! `m_i` is 16 message bytes read little-endian with a 1 bit appended above them (a
//! last short block gets its 1 right after its bytes and zeros above).
//!
//! The accumulator `h` and `r` are held in three limbs of 44, 44 and 42 bits, so one
//! multiplication costs nine 64x64->128-bit products instead of the 25 32x32->64-bit
//! ones of five 26-bit limbs (orion's design, which this replaced). A product whose
//! weight reaches 2^130 is folded back down times 5 (2^130 = 5 mod p); the limbs make
//! that weight 2^132 for the products that overflow, hence the multiples `20 r_1` and
//! `20 r_2` computed once per key. Limbs are only partly reduced between blocks; the
//! last step reduces fully, subtracts p without branching if `h >= p`, and adds `s`.
//!
//! One block at a time, each block waits for the previous one's multiplication and
//! carries (0.61 ns a byte). Blocks are therefore taken in pairs, `h = (h + a) r^2 +
//! b r`: the two multiplications are independent and share one carry pass, which
//! brings it to 0.35 ns a byte, faster than RustCrypto's AVX2 `poly1305` at every
//! size (see `secretbox`).
//!
//! The whole message is one buffer (a box is MACed in one piece), so there is no
//! incremental API: [`tag`] takes the key and the data.

use zeroize::Zeroize;

use super::simd;
use lanes::Lanes;

pub(super) mod lanes;

/// The low 44 bits.
const MASK44: u64 = (1 << 44) - 1;
/// The low 42 bits.
const MASK42: u64 = (1 << 42) - 1;
/// The bits of `r` kept by clamping: the top four of bytes 3, 7, 11 and 15 and the
/// bottom two of bytes 4, 8 and 12 are cleared, which keeps the products small.
const CLAMP: u128 = 0x0fff_fffc_0fff_fffc_0fff_fffc_0fff_ffff;
/// The 1 bit above a full block's 128 bits (bit 128), as it lands in the third limb
/// (which starts at bit 88).
const FULL_BLOCK_BIT: u64 = 1 << 40;
/// Bytes per block.
const BLOCK: usize = 16;
/// Messages from this size on take their whole groups of blocks in lanes where the
/// CPU has AVX2 or AVX-512 (see [`lanes`]): below it, raising `r` to the lanes'
/// power and folding the lanes together cost more than the lanes save.
const LANES_MIN: usize = 512;

/// The Poly1305 tag of `data` under the one-time `key` (`r || s`).
pub(crate) fn tag(key: &[u8; 32], data: &[u8]) -> [u8; 16] {
    let mut state = State::new(key);
    let rest = state.absorb_lanes(data);
    tag_rest(state, rest)
}

/// The tag once `data`, the end of the message, is absorbed into `state`.
fn tag_rest(mut state: State, data: &[u8]) -> [u8; 16] {
    let mut pairs = data.chunks_exact(2 * BLOCK);
    state.absorb_pairs(&mut pairs);
    let rest = pairs.remainder();
    let (full, partial) = rest.split_at(rest.len() / BLOCK * BLOCK);
    if !full.is_empty() {
        state.absorb(full, FULL_BLOCK_BIT);
    }
    if !partial.is_empty() {
        let mut last = [0u8; BLOCK];
        last[..partial.len()].copy_from_slice(partial);
        last[partial.len()] = 1;
        state.absorb(&last, 0);
        last.zeroize();
    }
    state.finish()
}

/// A multiplier mod 2^130-5 (`r` or `r^2`) in limbs of 44, 44 and 42 bits (the
/// second may run a little over), with its second and third limbs times 20: they
/// meet the limbs of `h` in products of weight 2^132, which fold down to weight 1 as
/// 2^132 = 4 * 2^130 = 20 mod p.
#[derive(Clone, Copy, Zeroize)]
struct Factor {
    limbs: [u64; 3],
    times20: [u64; 2],
}

impl Factor {
    fn new(limbs: [u64; 3]) -> Factor {
        Factor {
            limbs,
            times20: [limbs[1] * 20, limbs[2] * 20],
        }
    }

    /// The three limb sums of `h` times this factor, before carrying.
    ///
    /// Bounds: `h`'s limbs are below 2^45, the factor's below 2^45 and its multiples
    /// of 20 below 2^50, so each product is below 2^95, each sum of three below
    /// 2^97, and the sum of two such multiplications (a pair of blocks) below 2^98.
    #[inline(always)]
    fn times(self, h: [u64; 3]) -> [u128; 3] {
        let [f0, f1, f2] = self.limbs;
        let [f1_20, f2_20] = self.times20;
        [
            product(h[0], f0) + product(h[1], f2_20) + product(h[2], f1_20),
            product(h[0], f1) + product(h[1], f0) + product(h[2], f2_20),
            product(h[0], f2) + product(h[1], f1) + product(h[2], f0),
        ]
    }
}

/// The key-derived state and the accumulator, wiped when dropped (the copies the
/// compiler keeps in registers and on the stack while it computes are out of reach).
struct State {
    /// The clamped `r`.
    r: Factor,
    /// `r^2`, partly reduced, for blocks taken two at a time.
    r_squared: Factor,
    /// `s`, added to the reduced accumulator.
    s: u128,
    /// The accumulator `h`, partly reduced: limbs may run a little over their width.
    h: [u64; 3],
}

impl State {
    /// Clamps and splits `r`, squares it, and takes `s`, from `key`.
    fn new(key: &[u8; 32]) -> State {
        let (r, s) = key.split_at(BLOCK);
        let r = Factor::new(limbs(
            u128::from_le_bytes(r.try_into().expect("16 bytes")) & CLAMP,
        ));
        State {
            r,
            r_squared: Factor::new(carry(r.times(r.limbs))),
            s: u128::from_le_bytes(s.try_into().expect("16 bytes")),
            h: [0; 3],
        }
    }

    /// For each 32 bytes (two full blocks `a` and `b`): `h = (h + a) r^2 + b r`, the
    /// same as taking them one at a time, with the two multiplications independent.
    fn absorb_pairs<'a>(&mut self, pairs: impl Iterator<Item = &'a [u8]>) {
        let (r, r_squared) = (self.r, self.r_squared);
        let mut h = self.h;
        for pair in pairs {
            // Both blocks are loaded before either product: multiplying the first
            // before loading the second made LLVM spill registers (0.40 ns a byte
            // instead of 0.35).
            let a = block(&pair[..BLOCK], FULL_BLOCK_BIT);
            let b = block(&pair[BLOCK..], FULL_BLOCK_BIT);
            let x = r_squared.times(add(h, a));
            let y = r.times(b);
            h = carry([x[0] + y[0], x[1] + y[1], x[2] + y[2]]);
        }
        self.h = h;
    }

    /// Where the CPU has AVX2 or AVX-512 and `data` is long: its whole groups of 8 or
    /// 16 blocks in as many lanes, folded into `h` (see [`lanes`]). Returns the rest.
    fn absorb_lanes<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        if data.len() < LANES_MIN {
            return data;
        }
        match simd::lanes() {
            16 => self.absorb_in_lanes::<16>(data, simd::accumulate16),
            8 => self.absorb_in_lanes::<8>(data, simd::accumulate8),
            // Four lanes in SSE2 were slower than pairs of blocks (0.43 against 0.35
            // ns a byte).
            _ => data,
        }
    }

    /// The whole groups of `L` blocks of `data` summed in `L` lanes by
    /// `accumulate`, then folded into `h` lane by lane (Horner's rule:
    /// `h = (h + lane) r`, lane 0 first). Returns the rest.
    fn absorb_in_lanes<'a, const L: usize>(
        &mut self,
        data: &'a [u8],
        accumulate: fn(&[u8], &lanes::Limbs26, &mut Lanes<L>),
    ) -> &'a [u8] {
        let whole = data.len() / (L * BLOCK) * (L * BLOCK);
        // Without a whole group the fold below would multiply `h` by r^L for no block.
        if whole == 0 {
            return data;
        }
        let [r0, r1, r2] = self.r.limbs;
        let r = u128::from(r0) | u128::from(r1) << 44 | u128::from(r2) << 88;
        let mut r_l = lanes::power(lanes::limbs26(r), L);
        let mut sums = [[0u64; L]; 5];
        accumulate(data, &r_l, &mut sums);
        for lane in 0..L {
            let sum = lanes::lane_limbs44(&sums, lane);
            self.h = carry(self.r.times(add(self.h, sum)));
        }
        r_l.zeroize();
        sums.zeroize();
        &data[whole..]
    }

    /// For each 16 bytes of `blocks`, with `top_bit` above them: `h = (h + m) r`.
    fn absorb(&mut self, blocks: &[u8], top_bit: u64) {
        for m in blocks.chunks_exact(BLOCK) {
            self.h = carry(self.r.times(add(self.h, block(m, top_bit))));
        }
    }

    /// The tag: `h` fully reduced mod 2^130-5, plus `s` mod 2^128.
    fn finish(self) -> [u8; 16] {
        let [h0, h1, h2] = reduce(self.h);
        // Added, not ORed, in case the second limb kept a carry; bits from 128 on
        // are dropped.
        (h0 as u128)
            .wrapping_add((h1 as u128) << 44)
            .wrapping_add((h2 as u128) << 88)
            .wrapping_add(self.s)
            .to_le_bytes()
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.r.zeroize();
        self.r_squared.zeroize();
        self.s.zeroize();
        self.h.zeroize();
    }
}

/// The 16 bytes of `bytes` as limbs, with `top_bit` set above them.
#[inline(always)]
fn block(bytes: &[u8], top_bit: u64) -> [u64; 3] {
    let [m0, m1, m2] = limbs(u128::from_le_bytes(bytes.try_into().expect("16 bytes")));
    [m0, m1, m2 + top_bit]
}

/// `h + m`, limb by limb, without carrying: `h`'s limbs are below 2^44 + 2^16 and
/// `m`'s below 2^44, so the sums stay below 2^45.
#[inline(always)]
fn add(h: [u64; 3], m: [u64; 3]) -> [u64; 3] {
    [h[0] + m[0], h[1] + m[1], h[2] + m[2]]
}

/// The 44-, 44- and 42-bit limbs of `value` (the third holds all bits from 88 on).
#[inline(always)]
fn limbs(value: u128) -> [u64; 3] {
    [
        value as u64 & MASK44,
        (value >> 44) as u64 & MASK44,
        (value >> 88) as u64,
    ]
}

/// `a * b` in full.
#[inline(always)]
fn product(a: u64, b: u64) -> u128 {
    a as u128 * b as u128
}

/// Carries the limb sums `d` back into 44/44/42-bit limbs, folding what passes
/// 2^130 into the first limb times 5. The second limb may keep a small carry from
/// the first above its 44 bits (below 2^16), as the next block's bounds allow.
#[inline(always)]
fn carry(d: [u128; 3]) -> [u64; 3] {
    let d1 = d[1] + (d[0] >> 44);
    let d2 = d[2] + (d1 >> 44);
    // The sums are below 2^98 (see `Factor::times`), so this is below 2^56 and five
    // times it below 2^59: the first limb's u64 cannot overflow.
    let over = (d2 >> 42) as u64;
    let h0 = (d[0] as u64 & MASK44) + over * 5;
    let h1 = (d1 as u64 & MASK44) + (h0 >> 44);
    [h0 & MASK44, h1, d2 as u64 & MASK42]
}

/// `h` reduced to its unique value below 2^130-5, in limbs of exact width.
fn reduce(h: [u64; 3]) -> [u64; 3] {
    // One round leaves exact limbs given `carry`'s bounds; the second makes that
    // hold whatever they were, for a few instructions per message.
    let h = propagate(propagate(h));
    // g = h + 5 - 2^130: non-negative exactly when h >= p.
    let g0 = h[0] + 5;
    let g1 = h[1] + (g0 >> 44);
    let g2 = (h[2] + (g1 >> 44)).wrapping_sub(1 << 42);
    let g = [g0 & MASK44, g1 & MASK44, g2];
    // All ones when g2 did not borrow (h >= p): then g replaces h. No branch on h.
    let keep_g = (g2 >> 63).wrapping_sub(1);
    [0, 1, 2].map(|i| (h[i] & !keep_g) | (g[i] & keep_g))
}

/// One round of carries through the limbs, folding the carry out of the third back
/// into the first times 5.
fn propagate(h: [u64; 3]) -> [u64; 3] {
    let h1 = h[1] + (h[0] >> 44);
    let h2 = h[2] + (h1 >> 44);
    let h0 = (h[0] & MASK44) + (h2 >> 42) * 5;
    let h1 = (h1 & MASK44) + (h0 >> 44);
    [h0 & MASK44, h1, h2 & MASK42]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::poly1305::Poly1305 as Reference;
    use ::poly1305::universal_hash::KeyInit;

    /// RFC 8439 A.3 vectors #2 and #3: the start of the IETF's contribution notice.
    const IETF_NOTICE: &[u8] = b"Any submission to the IETF intended by the Contributor for \
        publication as all or part of an IETF Internet-Draft or RFC and any statement made \
        within the context of an IETF activity is considered an \"IETF Contribution\". Such \
        statements include oral statements in IETF sessions, as well as written and \
        electronic communications made at any time or place, which are addressed to";

    /// RFC 8439 A.3 vector #4.
    const JABBERWOCKY: &[u8] = b"'Twas brillig, and the slithy toves\nDid gyre and gimble in \
        the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    fn key(text: &str) -> [u8; 32] {
        hex(text).try_into().unwrap()
    }

    fn reference(key: &[u8; 32], data: &[u8]) -> [u8; 16] {
        Reference::new(key.into()).compute_unpadded(data).into()
    }

    /// A splitmix64 stream: reproducible pseudo-random keys and data.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn bytes<const N: usize>(&mut self) -> [u8; N] {
            let mut out = [0u8; N];
            for chunk in out.chunks_mut(8) {
                chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
            }
            out
        }

        fn vec(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    /// The lengths checked against the reference: every one up to 300 (every
    /// partial-block length, several times over) and block and page edges.
    fn lengths() -> impl Iterator<Item = usize> {
        let lanes = [
            511, 512, 513, 527, 528, 767, 768, 784, 1040, 1041, 1279, 1280,
        ];
        (0..=300)
            .chain(lanes)
            .chain([1023, 1024, 4095, 4096, 4097, 65_536, 70_001])
    }

    /// Every lane count the CPU may take (16 and 8 in AVX-512 or AVX2 where the CPU
    /// has them, else portable; 4 portable), against the reference.
    #[test]
    fn every_lane_count_gives_the_reference_tag() {
        fn with_lanes<const L: usize>(
            key: &[u8; 32],
            data: &[u8],
            accumulate: fn(&[u8], &lanes::Limbs26, &mut Lanes<L>),
        ) -> [u8; 16] {
            let mut state = State::new(key);
            let rest = state.absorb_in_lanes::<L>(data, accumulate);
            tag_rest(state, rest)
        }
        let mut random = Random(26);
        for len in lengths() {
            let key = random.bytes::<32>();
            let data = random.vec(len);
            let expected = reference(&key, &data);
            assert_eq!(with_lanes::<16>(&key, &data, simd::accumulate16), expected);
            assert_eq!(with_lanes::<8>(&key, &data, simd::accumulate8), expected);
            assert_eq!(with_lanes::<4>(&key, &data, lanes::accumulate), expected);
        }
    }

    /// RFC 8439 2.5.2: "Cryptographic Forum Research Group".
    #[test]
    fn rfc8439_example() {
        let key = key("85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8\
                       01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b");
        assert_eq!(
            tag(&key, b"Cryptographic Forum Research Group")[..],
            hex("a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9")
        );
    }

    /// RFC 8439 A.3, vectors #1 to #4: a zero key, r = 0 (the tag is s), s = 0, and
    /// an ordinary key.
    #[test]
    fn rfc8439_vectors() {
        let zeros = "00000000000000000000000000000000";
        let vectors: [(String, &[u8], &str); 4] = [
            (format!("{zeros}{zeros}"), &[0; 64], zeros),
            (
                format!("{zeros}36e5f6b5c5e06070f0efca96227a863e"),
                IETF_NOTICE,
                "36e5f6b5c5e06070f0efca96227a863e",
            ),
            (
                format!("36e5f6b5c5e06070f0efca96227a863e{zeros}"),
                IETF_NOTICE,
                "f3477e7cd95417af89a6b8794c310cf0",
            ),
            (
                "1c9240a5eb55d38af333888604f6b5f0 473917c1402b80099dca5cbc207075c0".to_string(),
                JABBERWOCKY,
                "4541669a7eaaee61e708dc7cbcc5eb62",
            ),
        ];
        for (i, (key_hex, data, expected)) in vectors.iter().enumerate() {
            assert_eq!(
                tag(&key(key_hex), data)[..],
                hex(expected),
                "vector #{}",
                i + 1
            );
        }
    }

    /// RFC 8439 A.3, vectors #5 to #11, the edge cases of the arithmetic: a partly
    /// reduced result that is not fully reduced, `s` overflowing 2^128, a carry into
    /// an all-ones limb, results of exactly 2^130-5 and 2^130-6, and the 5*H+L
    /// folding giving 131 bits, in the middle and at the end. Each is (r || s, data,
    /// tag), 16 bytes to a line.
    #[test]
    fn rfc8439_edge_cases() {
        let zeros = "00000000000000000000000000000000";
        let ones = "ffffffffffffffffffffffffffffffff";
        let r2 = "02000000000000000000000000000000";
        let r1 = "01000000000000000000000000000000";
        let three = "03000000000000000000000000000000";
        let r_fold = "01000000000000000400000000000000";
        let fold = "e33594d7505e43b90000000000000000 \
                    3394d7505e4379cd0100000000000000 \
                    00000000000000000000000000000000";
        let vectors = [
            (format!("{r2} {zeros}"), ones.to_string(), three.to_string()),
            (format!("{r2} {ones}"), r2.to_string(), three.to_string()),
            (
                format!("{r1} {zeros}"),
                format!("{ones} f0ffffffffffffffffffffffffffffff 11000000000000000000000000000000"),
                "05000000000000000000000000000000".to_string(),
            ),
            (
                format!("{r1} {zeros}"),
                format!("{ones} fbfefefefefefefefefefefefefefefe 01010101010101010101010101010101"),
                zeros.to_string(),
            ),
            (
                format!("{r2} {zeros}"),
                "fdffffffffffffffffffffffffffffff".to_string(),
                "faffffffffffffffffffffffffffffff".to_string(),
            ),
            (
                format!("{r_fold} {zeros}"),
                format!("{fold} {r1}"),
                "14000000000000005500000000000000".to_string(),
            ),
            (
                format!("{r_fold} {zeros}"),
                fold.to_string(),
                "13000000000000000000000000000000".to_string(),
            ),
        ];
        for (i, (key_hex, data, expected)) in vectors.iter().enumerate() {
            assert_eq!(
                tag(&key(key_hex), &hex(data))[..],
                hex(expected),
                "vector #{}",
                i + 5
            );
        }
    }

    #[test]
    fn matches_rustcrypto_for_random_keys_at_every_length() {
        let mut random = Random(1305);
        for len in lengths() {
            for _ in 0..8 {
                let key = random.bytes::<32>();
                let data = random.vec(len);
                assert_eq!(tag(&key, &data), reference(&key, &data), "{len} bytes");
            }
        }
    }

    /// The largest limbs the arithmetic can meet: every bit of `r` that clamping
    /// keeps, all-ones `s`, and all-ones data, so every block adds the most it can.
    #[test]
    fn matches_rustcrypto_with_the_largest_r_and_data() {
        for s in [0x00, 0xff] {
            let mut key = [0xff; 32];
            key[16..].fill(s);
            for len in lengths() {
                let data = vec![0xff; len];
                assert_eq!(tag(&key, &data), reference(&key, &data), "{len} bytes");
            }
        }
    }
}
