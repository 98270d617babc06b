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
/// kind the hardware prefetchers do not keep up across 4 KiB pages (measured in the
/// README's performance section; `prefetchw` for the output streams measured no better).
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
