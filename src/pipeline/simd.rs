//! Run-time choice between a kernel compiled for AVX-512 or AVX2 and the same kernel for
//! the x86-64 baseline (SSE2).

/// Defines `$name`, which runs `$plain` compiled with the first of the listed target
/// features the CPU has, else `$plain` as built. Every form is the same code and gives
/// the same bits (Rust never fuses a multiply and an add on its own); the tests compare
/// them anyway.
macro_rules! feature_dispatch {
    ([$($feature:tt),+] $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $plain:ident) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            $crate::pipeline::simd::feature_dispatch!(@try [$($feature),+] ($($arg: $ty),*) ($($ret)?) $plain);
            $plain($($arg),*)
        }
    };
    // one arm per feature, in order: return from the first the CPU has
    (@try [$feature:tt $(, $rest:tt)*] ($($arg:ident: $ty:ty),*) ($($ret:ty)?) $plain:ident) => {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = $feature)]
            fn compiled($($arg: $ty),*) $(-> $ret)? {
                $plain($($arg),*)
            }
            if std::arch::is_x86_feature_detected!($feature) {
                // SAFETY: the CPU has the feature (checked just above).
                return unsafe { compiled($($arg),*) };
            }
        }
        $crate::pipeline::simd::feature_dispatch!(@try [$($rest),*] ($($arg: $ty),*) ($($ret)?) $plain);
    };
    (@try [] ($($arg:ident: $ty:ty),*) ($($ret:ty)?) $plain:ident) => {};
}

/// [`feature_dispatch`] with AVX2 alone.
macro_rules! avx2_dispatch {
    ($($item:tt)*) => {
        $crate::pipeline::simd::feature_dispatch! { ["avx2"] $($item)* }
    };
}

/// [`feature_dispatch`] with AVX-512F first (the compiler then uses 512-bit vectors),
/// then AVX2.
macro_rules! avx512_dispatch {
    ($($item:tt)*) => {
        $crate::pipeline::simd::feature_dispatch! { ["avx512f", "avx2"] $($item)* }
    };
}

pub(crate) use avx2_dispatch;
pub(crate) use avx512_dispatch;
pub(crate) use feature_dispatch;

/// Transposes a 4 × 4 block of `f64` held in four AVX2 vectors (`r[j][k]` → `t[k][j]`):
/// unpack pairs, then swap 128-bit halves. Only moves values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) fn transpose4(r: [std::arch::x86_64::__m256d; 4]) -> [std::arch::x86_64::__m256d; 4] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_pd(r[0], r[1]);
    let t1 = _mm256_unpackhi_pd(r[0], r[1]);
    let t2 = _mm256_unpacklo_pd(r[2], r[3]);
    let t3 = _mm256_unpackhi_pd(r[2], r[3]);
    [
        _mm256_permute2f128_pd::<0x20>(t0, t2),
        _mm256_permute2f128_pd::<0x20>(t1, t3),
        _mm256_permute2f128_pd::<0x31>(t0, t2),
        _mm256_permute2f128_pd::<0x31>(t1, t3),
    ]
}

/// Asks the cache for the line holding `p`, which is about to be read or written. No
/// effect on results; a prefetch never faults, so `p` may point past the end of a buffer
/// (it is formed with `wrapping_add` and never dereferenced). The big planes are streamed
/// with these a few kilobytes ahead, input and output alike: on this project's machine
/// kind the hardware prefetchers do not keep up across 4 KiB pages (measured in
/// `docs/performance.md`; `prefetchw` for the output streams measured no better).
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch has no architectural effect and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Bytes of a cache line: the unit that [`cache_aligned`] aligns to.
pub const CACHE_LINE: usize = 64;

/// Extra elements a buffer needs so that [`cache_aligned`] can return `len` of them.
pub const fn align_slack<T>() -> usize {
    CACHE_LINE / std::mem::size_of::<T>()
}

/// The `len` elements of `buf` that start at its first cache-line boundary. The vector
/// kernels load and store whole 32- or 64-byte vectors at multiples of their width from
/// the start of a plane, row or ring; with the start on a line boundary none of those
/// accesses straddles two lines. (A heap buffer starts 16 bytes past one: every 64-byte
/// load of the vertical taps was split in two, which cost that kernel a fifth of its
/// speed.) `buf` needs `len + align_slack::<T>()` elements; the results are the same
/// bits either way.
///
/// # Panics
/// When `buf` is shorter than that (a caller's bug: buffers are sized with the slack).
pub fn cache_aligned<T>(buf: &mut [T], len: usize) -> &mut [T] {
    let off = buf
        .as_ptr()
        .align_offset(CACHE_LINE)
        .min(align_slack::<T>());
    &mut buf[off..off + len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_aligned_starts_on_a_line_and_keeps_its_length() {
        let slack = align_slack::<f64>();
        for len in [0usize, 1, 7, 100, 4099] {
            // every start a buffer can have: views shifted by one element at a time
            for shift in 0..slack {
                let mut a = vec![0f64; shift + len + slack];
                let s = cache_aligned(&mut a[shift..], len);
                assert_eq!((s.len(), s.as_ptr() as usize % CACHE_LINE), (len, 0));
            }
            let mut b = vec![0u8; 3 + len + align_slack::<u8>()];
            let t = cache_aligned(&mut b[3..], len);
            assert_eq!((t.len(), t.as_ptr() as usize % CACHE_LINE), (len, 0));
        }
    }
}
