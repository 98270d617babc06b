//! The instruction sets layercam has kernels for, probed once, and the helpers its vector
//! kernels share (transposes, prefetch, cache-line-aligned views).
//!
//! Every kernel with vector forms takes an [`Isa`]: a set this CPU is known to have. It
//! matches on it to pick its AVX-512, AVX2, SSE2 or plain form; the plain forms
//! (`*_plain`) use plain Rust all the way down, and each vector form is tested against
//! its plain form bit for bit.

use std::sync::OnceLock;

/// The instruction-set extensions layercam's kernels are written for, from none (portable
/// Rust) to AVX-512. Each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuExtensions {
    /// Plain Rust, as the compiler vectorises it for the build target.
    None,
    /// SSE2 (every x86-64 CPU).
    Sse2,
    /// AVX2 with POPCNT.
    Avx2,
    /// AVX-512F and AVX-512BW, with AVX2 and POPCNT.
    Avx512,
}

impl CpuExtensions {
    /// Every set, from none to the widest.
    pub const ALL: [CpuExtensions; 4] = [
        CpuExtensions::None,
        CpuExtensions::Sse2,
        CpuExtensions::Avx2,
        CpuExtensions::Avx512,
    ];

    /// The set's name.
    pub fn name(self) -> &'static str {
        match self {
            CpuExtensions::None => "none",
            CpuExtensions::Sse2 => "sse2",
            CpuExtensions::Avx2 => "avx2",
            CpuExtensions::Avx512 => "avx512",
        }
    }

    /// Whether this CPU has every instruction the set's kernels use (asks the CPU).
    fn probe(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            match self {
                CpuExtensions::None | CpuExtensions::Sse2 => true,
                CpuExtensions::Avx2 => has!("avx2") && has!("popcnt"),
                CpuExtensions::Avx512 => {
                    has!("avx512f") && has!("avx512bw") && has!("avx2") && has!("popcnt")
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == CpuExtensions::None
        }
    }
}

impl std::fmt::Display for CpuExtensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An instruction set this CPU has: the only way to ask a kernel for a vector form, so
/// that no safe call can run an instruction the CPU lacks.
///
/// # Examples
///
/// ```
/// use layercam::{CpuExtensions, Isa};
///
/// let best = Isa::detect();
/// assert!(Isa::new(CpuExtensions::None).is_some());
/// // every set up to the best one is there
/// assert!(Isa::available().iter().all(|i| i.extensions() <= best.extensions()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isa(CpuExtensions);

impl Isa {
    /// The widest set this CPU has (probed once per process).
    pub fn detect() -> Isa {
        static BEST: OnceLock<CpuExtensions> = OnceLock::new();
        Isa(*BEST.get_or_init(|| {
            CpuExtensions::ALL
                .into_iter()
                .rev()
                .find(|e| e.probe())
                .unwrap_or(CpuExtensions::None)
        }))
    }

    /// `ext`, when this CPU has it.
    pub fn new(ext: CpuExtensions) -> Option<Isa> {
        (ext <= Isa::detect().0).then_some(Isa(ext))
    }

    /// Plain Rust: the forms every other is tested against.
    pub const fn plain() -> Isa {
        Isa(CpuExtensions::None)
    }

    /// Every set this CPU has, from none to the widest.
    pub fn available() -> Vec<Isa> {
        CpuExtensions::ALL
            .into_iter()
            .filter_map(Isa::new)
            .collect()
    }

    /// The set.
    pub fn extensions(self) -> CpuExtensions {
        self.0
    }

    /// SSE2 kernels may run.
    #[inline(always)]
    pub fn sse2(self) -> bool {
        self.0 >= CpuExtensions::Sse2
    }

    /// AVX2 (and POPCNT) kernels may run.
    #[inline(always)]
    pub fn avx2(self) -> bool {
        self.0 >= CpuExtensions::Avx2
    }

    /// AVX-512F and AVX-512BW kernels may run.
    #[inline(always)]
    pub fn avx512(self) -> bool {
        self.0 >= CpuExtensions::Avx512
    }
}

impl Default for Isa {
    fn default() -> Self {
        Isa::detect()
    }
}

/// Defines `$name(isa, args…)`, which runs `$body` compiled with the widest of the listed
/// target features that `isa` allows, else as built (the same code: Rust never fuses a
/// multiply and an add on its own, so every form gives the same bits; the tests compare
/// them anyway). Each feature is given as `"feature" if check`, where `check` is the
/// [`Isa`] method that allows it. With `=> $body`, the body is `$body(isa, args…)` and
/// gets the `isa` it runs under, to pass on to the kernels it calls; with
/// `=> plain $body` it is `$body(args…)`.
macro_rules! feature_dispatch {
    ([$($feature:tt if $check:ident),+] $(#[$meta:meta])* $vis:vis fn $name:ident($isa:ident: Isa $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)? => plain $body:ident) => {
        $crate::simd::feature_dispatch!(@def plain $isa [$($feature if $check),+] $(#[$meta])* $vis fn $name($($arg: $ty),*) ($($ret)?) $body);
    };
    ([$($feature:tt if $check:ident),+] $(#[$meta:meta])* $vis:vis fn $name:ident($isa:ident: Isa $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)? => $body:ident) => {
        $crate::simd::feature_dispatch!(@def with_isa $isa [$($feature if $check),+] $(#[$meta])* $vis fn $name($($arg: $ty),*) ($($ret)?) $body);
    };
    (@def $mode:ident $isa:ident [$($feature:tt if $check:ident),+] $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) ($($ret:ty)?) $body:ident) => {
        $(#[$meta])*
        $vis fn $name($isa: $crate::simd::Isa $(, $arg: $ty)*) $(-> $ret)? {
            $crate::simd::feature_dispatch!(@try $mode $isa [$($feature if $check),+] ($($arg: $ty),*) ($($ret)?) $body);
            $crate::simd::feature_dispatch!(@call $mode $body $isa ($($arg),*))
        }
    };
    // one arm per feature, in order: return from the first `isa` allows
    (@try $mode:ident $isa:ident [$feature:tt if $check:ident $(, $rest_f:tt if $rest_c:ident)*] ($($arg:ident: $ty:ty),*) ($($ret:ty)?) $body:ident) => {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = $feature)]
            fn compiled($isa: $crate::simd::Isa $(, $arg: $ty)*) $(-> $ret)? {
                $crate::simd::feature_dispatch!(@call $mode $body $isa ($($arg),*))
            }
            if $isa.$check() {
                // SAFETY: `isa` is a set this CPU has (an `Isa` is only made for those),
                // and it includes the feature.
                return unsafe { compiled($isa $(, $arg)*) };
            }
        }
        $crate::simd::feature_dispatch!(@try $mode $isa [$($rest_f if $rest_c),*] ($($arg: $ty),*) ($($ret)?) $body);
    };
    (@try $mode:ident $isa:ident [] ($($arg:ident: $ty:ty),*) ($($ret:ty)?) $body:ident) => {};
    (@call with_isa $body:ident $isa:ident ($($arg:ident),*)) => { $body($isa $(, $arg)*) };
    (@call plain $body:ident $isa:ident ($($arg:ident),*)) => {{ let _ = $isa; $body($($arg),*) }};
}

/// [`feature_dispatch`] with AVX2 alone.
macro_rules! avx2_dispatch {
    ($($item:tt)*) => {
        $crate::simd::feature_dispatch! { ["avx2" if avx2] $($item)* }
    };
}

/// [`feature_dispatch`] with AVX-512F first (the compiler then uses 512-bit vectors),
/// then AVX2.
macro_rules! avx512_dispatch {
    ($($item:tt)*) => {
        $crate::simd::feature_dispatch! { ["avx512f" if avx512, "avx2" if avx2] $($item)* }
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
/// with these a few kilobytes ahead, input and output alike, because hardware
/// prefetchers stop at 4 KiB page boundaries (see `docs/performance.md`).
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

#[cfg(test)]
mod isa_tests {
    use super::*;

    #[test]
    fn sets_are_offered_up_to_the_widest_the_cpu_has() {
        let best = Isa::detect();
        eprintln!("instruction sets here: {:?}", Isa::available());
        assert_eq!(Isa::available().first(), Some(&Isa::plain()));
        assert_eq!(Isa::available().last(), Some(&best));
        for ext in CpuExtensions::ALL {
            assert_eq!(Isa::new(ext).is_some(), ext <= best.extensions(), "{ext}");
            let mut p = crate::Pipeline::new(crate::Params::default()).unwrap();
            match p.set_cpu_extensions(ext) {
                Ok(()) => assert_eq!(p.cpu_extensions(), ext),
                Err(e) => {
                    assert!(Isa::new(ext).is_none());
                    assert!(matches!(e, crate::Error::Unsupported(_)), "{e}");
                }
            }
        }
    }
}
