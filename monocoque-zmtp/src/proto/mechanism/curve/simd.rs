//! The only `unsafe` in this crate: running the cipher's and the authenticator's
//! kernels compiled for AVX2 or AVX-512 once the CPU was found to have them.
//!
//! The kernels themselves are safe code ([`salsa`](super::salsa)'s block loop and
//! [`lanes`](super::poly1305::lanes)' Poly1305 lanes, built with `#[target_feature]`
//! so that LLVM runs them in 256-bit or 512-bit registers instead of SSE2's 128).
//! Calling such a function is `unsafe` because on a CPU without the feature it would
//! execute instructions the CPU does not have; each call below is made only after
//! `is_x86_feature_detected!` said the CPU has it (a cached load after its first use),
//! and falls back to the SSE2 code otherwise. Other architectures always take the
//! portable code.

#![allow(unsafe_code)]

use super::poly1305::lanes::{self, Lanes, Limbs26};
use super::salsa::{self, Keystream};

/// How many blocks the widest kernel this CPU runs takes in one pass.
pub(super) fn lanes() -> usize {
    if has_avx512() {
        16
    } else if has_avx2() {
        8
    } else {
        4
    }
}

/// Whether the CPU has AVX-512F.
fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return !portable_only() && std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Whether the CPU has AVX2.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return !portable_only() && std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(test)]
thread_local! {
    /// Tests on this thread take the portable code, as a CPU without AVX2 would.
    static PORTABLE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn portable_only() -> bool {
    PORTABLE_ONLY.with(std::cell::Cell::get)
}

#[cfg(not(test))]
fn portable_only() -> bool {
    false
}

/// Runs `test` on this thread with the portable code only.
#[cfg(test)]
pub(super) fn without_wide_kernels(test: impl FnOnce()) {
    PORTABLE_ONLY.with(|only| only.set(true));
    test();
    PORTABLE_ONLY.with(|only| only.set(false));
}

/// `wide(a, b, c)` when `has_feature` says the CPU has the feature `wide` is
/// compiled for, else `portable(a, b, c)`: the one `unsafe` call in this crate.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn call<A, B, C>(
    has_feature: bool,
    wide: unsafe fn(A, B, C),
    portable: fn(A, B, C),
    (a, b, c): (A, B, C),
) {
    if has_feature {
        // SAFETY: `wide` runs instructions of one CPU feature beyond the baseline,
        // and every caller below passes that feature's check as `has_feature`.
        unsafe { wide(a, b, c) }
    } else {
        portable(a, b, c)
    }
}

/// 16 blocks of keystream from `counter` on: in 512-bit registers where the CPU has
/// AVX-512F, else by the portable code.
pub(super) fn blocks16(input: &[u32; 16], counter: u64, out: &mut Keystream<16>) {
    #[cfg(target_arch = "x86_64")]
    return call(
        has_avx512(),
        salsa::blocks16_avx512,
        salsa::blocks,
        (input, counter, out),
    );
    #[cfg(not(target_arch = "x86_64"))]
    salsa::blocks(input, counter, out)
}

/// 8 blocks of keystream from `counter` on: in 256-bit registers where the CPU has
/// AVX2, else by the portable code.
pub(super) fn blocks8(input: &[u32; 16], counter: u64, out: &mut Keystream<8>) {
    #[cfg(target_arch = "x86_64")]
    return call(
        has_avx2(),
        salsa::blocks8_avx2,
        salsa::blocks,
        (input, counter, out),
    );
    #[cfg(not(target_arch = "x86_64"))]
    salsa::blocks(input, counter, out)
}

/// Poly1305's 16 lanes over `data` (see [`lanes::accumulate`]): in 512-bit registers
/// where the CPU has AVX-512F, else by the portable code.
pub(super) fn accumulate16(data: &[u8], r_l: &Limbs26, sums: &mut Lanes<16>) {
    #[cfg(target_arch = "x86_64")]
    return call(
        has_avx512(),
        lanes::accumulate16_avx512,
        lanes::accumulate,
        (data, r_l, sums),
    );
    #[cfg(not(target_arch = "x86_64"))]
    lanes::accumulate(data, r_l, sums)
}

/// Poly1305's 8 lanes over `data`: in 256-bit registers where the CPU has AVX2,
/// else by the portable code.
pub(super) fn accumulate8(data: &[u8], r_l: &Limbs26, sums: &mut Lanes<8>) {
    #[cfg(target_arch = "x86_64")]
    return call(
        has_avx2(),
        lanes::accumulate8_avx2,
        lanes::accumulate,
        (data, r_l, sums),
    );
    #[cfg(not(target_arch = "x86_64"))]
    lanes::accumulate(data, r_l, sums)
}
