//! The level histogram: eight interleaved sub-histograms, and 64-level blocks counted
//! by vector compares (AVX2, AVX-512BW) where a block spans few levels.

use super::*;

/// Sub-histograms counted in turn by [`histogram()`].
pub const SUB_HISTOGRAMS: usize = 8;

/// The counting tables of [`histogram()`]: [`SUB_HISTOGRAMS`] tables of `u32`.
pub(super) type SubHistograms = [[u32; 256]; SUB_HISTOGRAMS];

/// Histogram of gray levels. Level by level it is counted into [`SUB_HISTOGRAMS`]
/// interleaved sub-histograms: a document-like frame is dominated by one level, and one
/// table would serialise on that counter (each increment waits for the previous one's
/// store); eight tables keep eight increments in flight. With AVX-512BW or AVX2 most
/// 64-level blocks are counted with a few vector compares instead (`histogram_blocks`):
/// in an upscaled frame two in three blocks span fewer than 16 levels. The same counts
/// either way.
pub fn histogram(isa: Isa, levels: &[u8], hist: &mut [u64; 256]) {
    count_into(levels, hist, Counting::of(isa))
}

/// The plain form of [`histogram()`]: every level counted on its own.
pub fn histogram_plain(levels: &[u8], hist: &mut [u64; 256]) {
    count_into(levels, hist, Counting::Each)
}

/// How [`count_into`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counting {
    /// Level by level ([`count_each`]).
    Each,
    /// By 64-level blocks with AVX2.
    #[cfg(target_arch = "x86_64")]
    BlocksAvx2,
    /// By 64-level blocks with AVX-512BW.
    #[cfg(target_arch = "x86_64")]
    BlocksAvx512,
}

impl Counting {
    /// The fastest way `isa` allows.
    pub(super) fn of(isa: Isa) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if isa.avx512() {
                return Counting::BlocksAvx512;
            }
            if isa.avx2() {
                return Counting::BlocksAvx2;
            }
        }
        let _ = isa;
        Counting::Each
    }
}

/// [`histogram()`] counted the given way (one made by [`Counting::of`] from a set this CPU
/// has).
pub(super) fn count_into(levels: &[u8], hist: &mut [u64; 256], way: Counting) {
    let mut sub: SubHistograms = [[0u32; 256]; SUB_HISTOGRAMS];
    hist.fill(0);
    // u32 counters: flush well before 2^32 per sub-histogram
    for block in levels.chunks(1 << 30) {
        match way {
            Counting::Each => count_each(block, &mut sub),
            // SAFETY: a way is made by `Counting::of` from an `Isa`, a set this CPU has.
            #[cfg(target_arch = "x86_64")]
            Counting::BlocksAvx2 => unsafe { histogram_blocks_avx2(block, &mut sub) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Counting::BlocksAvx512 => unsafe { histogram_blocks_avx512(block, &mut sub) },
        }
        for s in sub.iter_mut() {
            for (h, c) in hist.iter_mut().zip(s.iter_mut()) {
                *h += *c as u64;
                *c = 0;
            }
        }
    }
}

/// Adds one count per level of `levels` to the sub-histograms, in turn.
#[inline(always)]
pub(super) fn count_each(levels: &[u8], sub: &mut SubHistograms) {
    let (groups, rest) = levels.as_chunks::<SUB_HISTOGRAMS>();
    for q in groups {
        for (s, &v) in sub.iter_mut().zip(q) {
            s[v as usize] += 1;
        }
    }
    for &v in rest {
        sub[0][v as usize] += 1;
    }
}

/// A block of 64 levels in vector registers: what [`histogram_blocks`] needs of a
/// vector instruction set. Every method needs that set on the CPU (hence `unsafe`); they
/// are inlined into a function compiled for it.
#[cfg(target_arch = "x86_64")]
pub(super) trait LevelBlock: Copy {
    /// The 64 levels of `q`.
    unsafe fn load(q: &[u8; 64]) -> Self;
    /// Whether every level equals `v`.
    unsafe fn all_equal(self, v: u8) -> bool;
    /// Every level minus `base` (wrapping), if all of those are below `w`.
    unsafe fn offsets_below(self, base: u8, w: u8) -> Option<Self>;
    /// How many levels equal `k`.
    unsafe fn count_equal(self, k: u8) -> u32;
}

/// [`LevelBlock`] with AVX-512BW: one register, compare masks.
#[cfg(target_arch = "x86_64")]
impl LevelBlock for std::arch::x86_64::__m512i {
    #[inline(always)]
    unsafe fn load(q: &[u8; 64]) -> Self {
        use std::arch::x86_64::*;
        // SAFETY: `q` is 64 bytes (an unaligned load is allowed); AVX-512 by the caller.
        unsafe { _mm512_loadu_si512(q.as_ptr() as *const __m512i) }
    }

    #[inline(always)]
    unsafe fn all_equal(self, v: u8) -> bool {
        use std::arch::x86_64::*;
        // SAFETY: AVX-512BW by the caller.
        unsafe { _mm512_cmpeq_epi8_mask(self, _mm512_set1_epi8(v as i8)) == u64::MAX }
    }

    #[inline(always)]
    unsafe fn offsets_below(self, base: u8, w: u8) -> Option<Self> {
        use std::arch::x86_64::*;
        // SAFETY: AVX-512BW by the caller.
        unsafe {
            let d = _mm512_sub_epi8(self, _mm512_set1_epi8(base as i8));
            (_mm512_cmplt_epu8_mask(d, _mm512_set1_epi8(w as i8)) == u64::MAX).then_some(d)
        }
    }

    #[inline(always)]
    unsafe fn count_equal(self, k: u8) -> u32 {
        use std::arch::x86_64::*;
        // SAFETY: AVX-512BW by the caller.
        unsafe { _mm512_cmpeq_epi8_mask(self, _mm512_set1_epi8(k as i8)).count_ones() }
    }
}

/// [`LevelBlock`] with AVX2: two registers, compares turned into bit masks.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2Block([std::arch::x86_64::__m256i; 2]);

/// One bit per byte of `a` (low 32) and `b` (high 32): its top bit, so a compare's
/// all-ones bytes become ones.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn mask64(a: std::arch::x86_64::__m256i, b: std::arch::x86_64::__m256i) -> u64 {
    use std::arch::x86_64::_mm256_movemask_epi8 as top_bits;
    // SAFETY: AVX2 by the caller.
    unsafe { top_bits(a) as u32 as u64 | (top_bits(b) as u32 as u64) << 32 }
}

// (no closures around intrinsics in these methods: a closure is not compiled for the
// caller's instruction set, so an intrinsic in it may become a call; see `zoom.rs`)
#[cfg(target_arch = "x86_64")]
impl LevelBlock for Avx2Block {
    #[inline(always)]
    unsafe fn load(q: &[u8; 64]) -> Self {
        use std::arch::x86_64::*;
        let p = q.as_ptr() as *const __m256i;
        // SAFETY: `q` is 64 bytes, two 32-byte loads (unaligned loads are allowed); AVX2
        // by the caller.
        unsafe { Self([_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1))]) }
    }

    #[inline(always)]
    unsafe fn all_equal(self, v: u8) -> bool {
        use std::arch::x86_64::*;
        let Self([a, b]) = self;
        // SAFETY: AVX2 by the caller.
        unsafe {
            let v = _mm256_set1_epi8(v as i8);
            mask64(_mm256_cmpeq_epi8(a, v), _mm256_cmpeq_epi8(b, v)) == u64::MAX
        }
    }

    #[inline(always)]
    unsafe fn offsets_below(self, base: u8, w: u8) -> Option<Self> {
        use std::arch::x86_64::*;
        let Self([a, b]) = self;
        // SAFETY: AVX2 by the caller.
        unsafe {
            let base = _mm256_set1_epi8(base as i8);
            let (a, b) = (_mm256_sub_epi8(a, base), _mm256_sub_epi8(b, base));
            // below w ⇔ max(d, w − 1) = w − 1 (unsigned)
            let top = _mm256_set1_epi8((w - 1) as i8);
            let within = mask64(
                _mm256_cmpeq_epi8(_mm256_max_epu8(a, top), top),
                _mm256_cmpeq_epi8(_mm256_max_epu8(b, top), top),
            );
            (within == u64::MAX).then_some(Self([a, b]))
        }
    }

    #[inline(always)]
    unsafe fn count_equal(self, k: u8) -> u32 {
        use std::arch::x86_64::*;
        let Self([a, b]) = self;
        // SAFETY: AVX2 by the caller.
        unsafe {
            let k = _mm256_set1_epi8(k as i8);
            mask64(_mm256_cmpeq_epi8(a, k), _mm256_cmpeq_epi8(b, k)).count_ones()
        }
    }
}

/// If every level of the block `v` lies in `[base, base + W)` (`base ≤ 256 − W`),
/// counts them into `table` (one compare and one population count per level of the
/// window) and returns true; else leaves `table` as it is and returns false.
///
/// # Safety
/// The CPU has `B`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn count_in_window<B: LevelBlock, const W: usize>(
    v: B,
    base: u8,
    table: &mut [u32; 256],
) -> bool {
    // offsets from `base`; a level below it wraps around to at least 256 − base ≥ W
    // SAFETY: upheld by the caller.
    let Some(d) = (unsafe { v.offsets_below(base, W as u8) }) else {
        return false;
    };
    for (k, c) in table[base as usize..base as usize + W]
        .iter_mut()
        .enumerate()
    {
        // SAFETY: upheld by the caller.
        *c += unsafe { d.count_equal(k as u8) };
    }
    true
}

/// [`histogram()`]'s counting a block of 64 levels at a time, by the first of these that
/// fits the block (`v0` its first level):
/// * all levels equal: one addition of 64;
/// * all within the 8 levels from `v0 − 4`: a compare and a population count per level
///   of that window ([`count_in_window`]);
/// * all within the 16 levels from `v0 − 8`: the same over 16 levels;
/// * else level by level ([`count_each`]).
///
/// An upscaled frame is smooth: most 64-level blocks fall in the first three tiers, so
/// most levels are counted by a few compares instead of one increment each (the figures
/// are in `docs/performance.md`). The window counts go to the sub-histograms in turn. The last levels (fewer than 64) are
/// counted one by one.
///
/// # Safety
/// The CPU has `B`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn histogram_blocks<B: LevelBlock>(levels: &[u8], sub: &mut SubHistograms) {
    let (blocks, rest) = levels.as_chunks::<64>();
    let mut turn = 0usize;
    for q in blocks {
        // SAFETY: upheld by the caller (all three calls below too).
        let v = unsafe { B::load(q) };
        let v0 = q[0];
        let table = &mut sub[turn % SUB_HISTOGRAMS];
        // the windows' first levels, kept inside 0..256
        let (base8, base16) = (v0.saturating_sub(4).min(248), v0.saturating_sub(8).min(240));
        // SAFETY: as above.
        let by_block = if unsafe { v.all_equal(v0) } {
            table[v0 as usize] += 64;
            true
        } else {
            // SAFETY: as above.
            unsafe {
                count_in_window::<B, 8>(v, base8, table)
                    || count_in_window::<B, 16>(v, base16, table)
            }
        };
        if by_block {
            turn += 1;
        } else {
            count_each(q, sub);
        }
    }
    count_each(rest, sub);
}

/// [`histogram_blocks`] with AVX-512BW (one register a block).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,popcnt")]
pub(super) fn histogram_blocks_avx512(levels: &[u8], sub: &mut SubHistograms) {
    // SAFETY: this function is compiled for AVX-512BW, so the CPU has it.
    unsafe { histogram_blocks::<std::arch::x86_64::__m512i>(levels, sub) }
}

/// [`histogram_blocks`] with AVX2 (two registers a block, compares as bit masks).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
pub(super) fn histogram_blocks_avx2(levels: &[u8], sub: &mut SubHistograms) {
    // SAFETY: this function is compiled for AVX2, so the CPU has it.
    unsafe { histogram_blocks::<Avx2Block>(levels, sub) }
}
