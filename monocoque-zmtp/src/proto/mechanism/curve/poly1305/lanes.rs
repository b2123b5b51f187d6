//! Poly1305 over many blocks side by side, for long messages on CPUs with AVX2 or
//! AVX-512.
//!
//! The scalar code multiplies one accumulator by `r` after every block, and each
//! multiplication waits for the one before. Here block `j` of each group of `L`
//! blocks goes to its own accumulator ("lane" `j`), and each lane is multiplied by
//! `r^L` between groups:
//!
//! ```text
//! lane_j = m_j r^(L(q-1)) + m_(L+j) r^(L(q-2)) + ... + m_(L(q-1)+j)     (q groups)
//! h      = lane_0 r^L + lane_1 r^(L-1) + ... + lane_(L-1) r              (Horner)
//! ```
//!
//! which is the same polynomial as one block at a time. The lanes are independent,
//! so LLVM's loop vectorizer runs them in 256-bit or 512-bit registers once the loop
//! is compiled for AVX2 or AVX-512F ([`super::super::simd`] picks). For that the
//! limbs are 26 bits wide: every product is a 32x32->64-bit multiplication, which
//! vector units have (`vpmuludq`), where the scalar code's 64x64->128-bit ones have
//! none. Bounds: lane limbs stay below 2^27 + 2^10 after a block is added, `r^L`'s
//! below 2^26 + 2^10 and their multiples of 5 below 2^30, so products are below
//! 2^57 and sums of five below 2^60.

use super::BLOCK;

/// The low 26 bits.
const MASK26: u64 = (1 << 26) - 1;

/// A value mod 2^130-5 in five limbs of 26 bits (partly reduced: limbs may run a
/// little over).
pub(in crate::proto::mechanism::curve) type Limbs26 = [u64; 5];

/// `L` lanes' accumulators, limb by limb: `lanes[limb][lane]`, the layout the
/// vectorizer wants.
pub(in crate::proto::mechanism::curve) type Lanes<const L: usize> = [[u64; L]; 5];

/// `value` (below 2^130) in 26-bit limbs.
pub(super) fn limbs26(value: u128) -> Limbs26 {
    [0, 26, 52, 78, 104].map(|shift| (value >> shift) as u64 & MASK26)
}

/// `a * b` in the low 32 bits of each: the form vector units multiply in.
#[inline(always)]
fn product(a: u64, b: u64) -> u64 {
    (a as u32 as u64) * (b as u32 as u64)
}

/// `h * r` mod 2^130-5, partly reduced, given `r` and its multiples of 5 (`s[i] = 5
/// r[i + 1]`: products of weight 2^130 and above fold down times 5).
#[inline(always)]
fn multiply(h: Limbs26, r: Limbs26, s: [u64; 4]) -> Limbs26 {
    let [h0, h1, h2, h3, h4] = h;
    let [r0, r1, r2, r3, r4] = r;
    let [s1, s2, s3, s4] = s;
    let d0 = product(h0, r0) + product(h1, s4) + product(h2, s3) + product(h3, s2);
    let d0 = d0 + product(h4, s1);
    let d1 = product(h0, r1) + product(h1, r0) + product(h2, s4) + product(h3, s3);
    let d1 = d1 + product(h4, s2);
    let d2 = product(h0, r2) + product(h1, r1) + product(h2, r0) + product(h3, s4);
    let d2 = d2 + product(h4, s3);
    let d3 = product(h0, r3) + product(h1, r2) + product(h2, r1) + product(h3, r0);
    let d3 = d3 + product(h4, s4);
    let d4 = product(h0, r4) + product(h1, r3) + product(h2, r2) + product(h3, r1);
    let d4 = d4 + product(h4, r0);
    carry([d0, d1, d2, d3, d4])
}

/// Carries the limb sums `d` into 26-bit limbs, what passes 2^130 folded into the
/// first times 5; the second limb may keep a carry of up to 2^10.
#[inline(always)]
fn carry(d: [u64; 5]) -> Limbs26 {
    let d1 = d[1] + (d[0] >> 26);
    let d2 = d[2] + (d1 >> 26);
    let d3 = d[3] + (d2 >> 26);
    let d4 = d[4] + (d3 >> 26);
    let h0 = (d[0] & MASK26) + (d4 >> 26) * 5;
    let h1 = (d1 & MASK26) + (h0 >> 26);
    [h0 & MASK26, h1, d2 & MASK26, d3 & MASK26, d4 & MASK26]
}

fn times5(r: Limbs26) -> [u64; 4] {
    [r[1] * 5, r[2] * 5, r[3] * 5, r[4] * 5]
}

/// `r^lanes`, by squaring (`lanes` a power of two).
pub(super) fn power(r: Limbs26, lanes: usize) -> Limbs26 {
    let mut power = r;
    let mut n = 1;
    while n < lanes {
        power = multiply(power, power, times5(power));
        n *= 2;
    }
    power
}

/// Block `bytes` (16 of them) in 26-bit limbs with the 1 bit above its 128 bits.
#[inline(always)]
fn block(bytes: &[u8]) -> Limbs26 {
    let mut low = [0u8; 8];
    let mut high = [0u8; 8];
    low.copy_from_slice(&bytes[..8]);
    high.copy_from_slice(&bytes[8..BLOCK]);
    let (low, high) = (u64::from_le_bytes(low), u64::from_le_bytes(high));
    [
        low & MASK26,
        (low >> 26) & MASK26,
        ((low >> 52) | (high << 12)) & MASK26,
        (high >> 14) & MASK26,
        (high >> 40) | (1 << 24),
    ]
}

/// Adds the groups of `L` blocks in `data` (whole groups only; the rest is left to
/// the caller) into `lanes`, each group but the last followed by a multiplication by
/// `r_l` = `r^L` (see the module documentation). Each iteration of the inner loops
/// is one lane, independent of the others: the loops LLVM vectorizes.
#[inline(always)]
pub(in crate::proto::mechanism::curve) fn accumulate<const L: usize>(
    data: &[u8],
    r_l: &Limbs26,
    lanes: &mut Lanes<L>,
) {
    let s_l = times5(*r_l);
    let whole = data.len() / (L * BLOCK) * (L * BLOCK);
    let Some(last_start) = whole.checked_sub(L * BLOCK) else {
        return;
    };
    let (body, last) = data[..whole].split_at(last_start);
    for group in body.chunks_exact(L * BLOCK) {
        for lane in 0..L {
            let h = add(lanes, lane, block(&group[lane * BLOCK..]));
            set(lanes, lane, multiply(h, *r_l, s_l));
        }
    }
    for lane in 0..L {
        let h = add(lanes, lane, block(&last[lane * BLOCK..]));
        set(lanes, lane, h);
    }
}

/// Lane `lane` of `lanes` plus the block `m`.
#[inline(always)]
fn add<const L: usize>(lanes: &Lanes<L>, lane: usize, m: Limbs26) -> Limbs26 {
    [0, 1, 2, 3, 4].map(|limb| lanes[limb][lane] + m[limb])
}

/// Stores `h` as lane `lane` of `lanes`.
#[inline(always)]
fn set<const L: usize>(lanes: &mut Lanes<L>, lane: usize, h: Limbs26) {
    for (limbs, value) in lanes.iter_mut().zip(h) {
        limbs[lane] = value;
    }
}

/// [`accumulate`] over 8 lanes, compiled for AVX2. Called through
/// [`simd::accumulate8`](super::super::simd::accumulate8) only.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(in crate::proto::mechanism::curve) fn accumulate8_avx2(
    data: &[u8],
    r_l: &Limbs26,
    lanes: &mut Lanes<8>,
) {
    accumulate(data, r_l, lanes);
}

/// [`accumulate`] over 16 lanes, compiled for AVX-512F. Called through
/// [`simd::accumulate16`](super::super::simd::accumulate16) only.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(in crate::proto::mechanism::curve) fn accumulate16_avx512(
    data: &[u8],
    r_l: &Limbs26,
    lanes: &mut Lanes<16>,
) {
    accumulate(data, r_l, lanes);
}

/// One lane of `lanes`, carried twice (so its limbs are 26 bits, the second up to
/// one over) and regrouped into the scalar code's 44-, 44- and 42-bit limbs.
pub(super) fn lane_limbs44<const L: usize>(lanes: &Lanes<L>, lane: usize) -> [u64; 3] {
    let h = [0, 1, 2, 3, 4].map(|limb| lanes[limb][lane]);
    let [l0, l1, l2, l3, l4] = carry(carry(h));
    [
        l0 + ((l1 & ((1 << 18) - 1)) << 26),
        (l1 >> 18) + (l2 << 8) + ((l3 & ((1 << 10) - 1)) << 34),
        (l3 >> 10) + (l4 << 16),
    ]
}
