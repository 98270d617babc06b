//! The AVX-512 forms of the zoom's kernels (each tested bit for bit against its plain
//! form).

use super::*;

/// [`VerticalTaps`] with AVX-512F: eight `f64` lanes, one register per row.
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx512Taps;

#[cfg(target_arch = "x86_64")]
impl VerticalTaps for Avx512Taps {
    type Weights = [std::arch::x86_64::__m512d; 4];
    type Columns = [std::arch::x86_64::__m512d; 4];

    // (no closures here: a closure is not compiled for the caller's instruction set, so
    // the intrinsics in it would become calls)
    #[inline(always)]
    unsafe fn weights(w: &[f64; 4]) -> Self::Weights {
        use std::arch::x86_64::_mm512_set1_pd as set1;
        // SAFETY: AVX-512F by the caller.
        unsafe { [set1(w[0]), set1(w[1]), set1(w[2]), set1(w[3])] }
    }

    #[inline(always)]
    unsafe fn columns(rows: &[&[f64]; 4], at: usize) -> Self::Columns {
        use std::arch::x86_64::_mm512_loadu_pd as load;
        let [a, b, c, d] = column_starts(rows, at);
        // SAFETY: each pointer starts 8 values of a row (by the caller; unaligned loads
        // are allowed); AVX-512F by the caller.
        unsafe { [load(a), load(b), load(c), load(d)] }
    }

    #[inline(always)]
    unsafe fn combine(
        [r0, r1, r2, r3]: Self::Columns,
        [w0, w1, w2, w3]: Self::Weights,
    ) -> std::arch::x86_64::__m256 {
        use std::arch::x86_64::*;
        // SAFETY: AVX-512F by the caller.
        unsafe {
            _mm512_cvtpd_ps(_mm512_add_pd(
                _mm512_add_pd(
                    _mm512_add_pd(_mm512_mul_pd(w0, r0), _mm512_mul_pd(w1, r1)),
                    _mm512_mul_pd(w2, r2),
                ),
                _mm512_mul_pd(w3, r3),
            ))
        }
    }
}

/// [`combine_rows_power_with`] for AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn combine_rows_power_avx512<const N: usize>(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; N],
    out: [&mut [f32]; N],
    power: u32,
) -> (f32, f32) {
    // SAFETY: this function is compiled for AVX-512F, so the CPU has it.
    unsafe { combine_rows_power_with::<Avx512Taps, N>(rows, w, out, power) }
}
