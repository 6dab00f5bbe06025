//! Products over a weight stored in column panels (see
//! [`column_panels`](crate::kernels::column_panels)): the three products of a wide
//! [`Dense`](crate::Dense) layer, `y = x·W + b`, `dx = dy·Wᵀ` and
//! `dW = xᵀ·dy`, on one register tile of up to 6 rows × 16 columns.
//!
//! The weight `W (in, out)` is held as `out / 16` panels, each a row-major
//! `(in, 16)` block: the forward streams each panel once, in order, and
//! keeps it in L1 while every row tile of the batch reads it, with no
//! packing. `gemm` instead gathers 64-byte pieces from 512 rows that lie
//! 200 KB apart (one L1 set: the rows are a multiple of 4 KB apart), and
//! its 16-row tile covers a 50-row batch in 16 + 16 + 16 + 2. Measured in a
//! standalone program on the gate's 512 → 51,200 layer at batch 50, this
//! file's code against `gemm` 0.19 on the `(in, out)` weight as
//! `dense_kernel.rs` calls it (best of 8, four rounds, alternating, in a slow
//! phase of the machine): forward 23.0–23.8 ms against 30.8–34.8 ms; `dx`
//! 28.0–29.4 against 28.2–29.3; `dW` 22.8–23.3 against 20.0–23.1. The same
//! tile on blocks packed on the fly from the `(in, out)` layout: 23–31 ms
//! for the forward.
//!
//! Every output element is summed by one tile in a fixed order, whatever
//! the thread count: the results are reproducible.

// Raw pointers into checked slices, the AVX2 intrinsics, and outputs
// written without a zeroing pass; every index is derived from shapes
// checked on entry.
#![allow(unsafe_code)]

use rayon::prelude::*;

use super::column_panels::PANEL_WIDTH;
#[cfg(target_arch = "x86_64")]
use super::cpu_features::avx2_fma_available;
use super::element::Element;

/// Most rows of one register tile.
pub(crate) const TILE_ROWS: usize = 6;

/// Inner-dimension block of the forward: a 256 × 16 slice of a panel
/// (16 KB in f32) stays in L1 while the row tiles read it.
const K_BLOCK: usize = 256;

/// Batch rows per block of the forward: beyond it a block of the input
/// (64 × 512 in f32, 128 KB) would leave L2.
const ROW_BLOCK: usize = 64;

/// Panels per parallel task of the forward and the weight gradient.
const PANELS_PER_TASK: usize = 32;

/// Panels whose rows the input gradient transposes at once (256 columns).
const DX_PANELS: usize = 16;

/// Rows of `W` (columns of `dx`) per parallel task of the input gradient.
const DX_ROWS: usize = 128;

/// How a tile starts its sums.
#[derive(Clone, Copy)]
pub(crate) enum Start<T> {
    /// From zero.
    Zero,
    /// From one row of 16 values (the bias), the same for every row.
    Row(*const T),
    /// From what the destination holds.
    Destination,
}

/// One register tile: `C[i][j] = start + Σ_p A[i·a_row + p·a_k] · B[p·b_k + j]`
/// for `i < rows`, `j < 16`, `p < k`; `C[i][j]` at `c + i·c_row + j`.
#[derive(Clone, Copy)]
pub(crate) struct Tile<T> {
    k: usize,
    a: *const T,
    a_row: usize,
    a_k: usize,
    b: *const T,
    b_k: usize,
    c: *mut T,
    c_row: usize,
    start: Start<T>,
}

/// A tile kernel for one row count ([`kernels_for`] gives them:
/// the portable ones, or for `f32` the AVX2/FMA ones where the CPU has
/// them).
pub(crate) type TileFn<T> = unsafe fn(&Tile<T>);

/// Transposes a 16 × 16 block: `dst[j·16 + i] = src[i·16 + j]`.
pub(crate) type TransposeFn<T> = unsafe fn(*const T, *mut T);

/// The kernels of one element type.
#[derive(Clone, Copy)]
pub(crate) struct PanelKernels<T> {
    /// The register tiles for 1..=6 rows.
    pub tiles: [TileFn<T>; TILE_ROWS],
    /// The 16 × 16 transpose of the input gradient.
    pub transpose: TransposeFn<T>,
}

/// The kernels for element type `T`: [`f32_kernels`] for f32, the portable
/// ones otherwise (chosen by type, without `unsafe`).
pub(crate) fn kernels_for<T: Element>() -> PanelKernels<T> {
    let f32s = f32_kernels();
    (&f32s as &dyn std::any::Any)
        .downcast_ref::<PanelKernels<T>>()
        .copied()
        .unwrap_or_else(portable_kernels)
}

/// The f32 kernels: AVX2/FMA where the CPU has them.
pub(crate) fn f32_kernels() -> PanelKernels<f32> {
    #[cfg(target_arch = "x86_64")]
    if avx2_fma_available() {
        return PanelKernels {
            tiles: avx2::KERNELS,
            transpose: avx2::transpose_entry,
        };
    }
    portable_kernels()
}

/// The portable kernels.
pub(crate) fn portable_kernels<T: Element>() -> PanelKernels<T> {
    PanelKernels {
        tiles: [
            tile_portable::<T, 1>,
            tile_portable::<T, 2>,
            tile_portable::<T, 3>,
            tile_portable::<T, 4>,
            tile_portable::<T, 5>,
            tile_portable::<T, 6>,
        ],
        transpose: transpose_portable::<T>,
    }
}

/// [`TransposeFn`] in plain Rust.
///
/// # Safety
/// `src` and `dst` must be valid for 256 reads and writes and not overlap.
unsafe fn transpose_portable<T: Copy>(src: *const T, dst: *mut T) {
    for i in 0..PANEL_WIDTH {
        for j in 0..PANEL_WIDTH {
            // SAFETY: i, j < 16 (the caller's 256 elements).
            unsafe { *dst.add(j * PANEL_WIDTH + i) = *src.add(i * PANEL_WIDTH + j) };
        }
    }
}

/// The tile in plain Rust (the compiler vectorizes the 16 columns).
///
/// # Safety
/// Every address the tile names must be valid (reads of `A`, `B`, the bias
/// row and, with [`Start::Destination`], `C`; writes of `C`), and `C` must
/// alias neither `A` nor `B`.
unsafe fn tile_portable<T: Element, const R: usize>(t: &Tile<T>) {
    // SAFETY: the caller's contract covers every address below.
    unsafe {
        let mut acc = [[T::default(); PANEL_WIDTH]; R];
        for (i, row) in acc.iter_mut().enumerate() {
            match t.start {
                Start::Zero => {}
                Start::Row(bias) => {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = *bias.add(j);
                    }
                }
                Start::Destination => {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = *t.c.add(i * t.c_row + j);
                    }
                }
            }
        }
        for p in 0..t.k {
            let b = std::slice::from_raw_parts(t.b.add(p * t.b_k), PANEL_WIDTH);
            for (i, row) in acc.iter_mut().enumerate() {
                let a = *t.a.add(i * t.a_row + p * t.a_k);
                for (v, &bj) in row.iter_mut().zip(b) {
                    *v = *v + a * bj;
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            std::ptr::copy_nonoverlapping(row.as_ptr(), t.c.add(i * t.c_row), PANEL_WIDTH);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Start, TILE_ROWS, Tile, TileFn};

    /// The AVX2 tiles for 1..=6 rows.
    pub(super) const KERNELS: [TileFn<f32>; TILE_ROWS] = [
        tile_entry::<1>,
        tile_entry::<2>,
        tile_entry::<3>,
        tile_entry::<4>,
        tile_entry::<5>,
        tile_entry::<6>,
    ];

    /// [`super::TransposeFn`] as four 8 × 8 transposes in registers.
    ///
    /// # Safety
    /// As [`super::transpose_portable`], and only where
    /// [`crate::kernels::cpu_features::avx2_fma_available`] holds (it is handed out only then).
    pub(super) unsafe fn transpose_entry(src: *const f32, dst: *mut f32) {
        // SAFETY: the caller's contract, and the CPU has AVX2.
        unsafe {
            for h in 0..2 {
                for q in 0..2 {
                    transpose8(src.add(8 * h * 16 + 8 * q), dst.add(8 * q * 16 + 8 * h));
                }
            }
        }
    }

    /// The 8 × 8 block at `src` (row stride 16) transposed to `dst` (row
    /// stride 16).
    ///
    /// # Safety
    /// Eight rows of eight at `src` and `dst`, 16 apart, valid; AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn transpose8(src: *const f32, dst: *mut f32) {
        // SAFETY: the caller's contract covers the 8 rows of 8 read and
        // written.
        unsafe {
            let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(src.add(16 * i)));
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let out = [
                _mm256_permute2f128_ps::<0x20>(s0, s4),
                _mm256_permute2f128_ps::<0x20>(s1, s5),
                _mm256_permute2f128_ps::<0x20>(s2, s6),
                _mm256_permute2f128_ps::<0x20>(s3, s7),
                _mm256_permute2f128_ps::<0x31>(s0, s4),
                _mm256_permute2f128_ps::<0x31>(s1, s5),
                _mm256_permute2f128_ps::<0x31>(s2, s6),
                _mm256_permute2f128_ps::<0x31>(s3, s7),
            ];
            for (i, v) in out.into_iter().enumerate() {
                _mm256_storeu_ps(dst.add(16 * i), v);
            }
        }
    }

    /// # Safety
    /// As [`tile`], and only where [`crate::kernels::cpu_features::avx2_fma_available`] holds
    /// (`KERNELS` is handed out only then).
    unsafe fn tile_entry<const R: usize>(t: &Tile<f32>) {
        // SAFETY: the caller's contract, and the CPU has AVX2 and FMA.
        unsafe { tile::<R>(t) }
    }

    /// `R` rows × 16 columns in `2·R` registers; one fused multiply-add
    /// per product, so the sums round differently from the portable tile's
    /// (within the tests' tolerance).
    ///
    /// # Safety
    /// As [`super::tile_portable`], on a CPU with AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile<const R: usize>(t: &Tile<f32>) {
        // SAFETY: the caller's contract covers every address below.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            match t.start {
                Start::Zero => {}
                Start::Row(bias) => {
                    let (b0, b1) = (_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8)));
                    for row in acc.iter_mut() {
                        *row = [b0, b1];
                    }
                }
                Start::Destination => {
                    for (i, row) in acc.iter_mut().enumerate() {
                        let c = t.c.add(i * t.c_row);
                        *row = [_mm256_loadu_ps(c), _mm256_loadu_ps(c.add(8))];
                    }
                }
            }
            let (mut a, mut b) = (t.a, t.b);
            for _ in 0..t.k {
                let b0 = _mm256_loadu_ps(b);
                let b1 = _mm256_loadu_ps(b.add(8));
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm256_broadcast_ss(&*a.add(i * t.a_row));
                    row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
                }
                a = a.add(t.a_k);
                b = b.add(t.b_k);
            }
            for (i, row) in acc.iter().enumerate() {
                let c = t.c.add(i * t.c_row);
                _mm256_storeu_ps(c, row[0]);
                _mm256_storeu_ps(c.add(8), row[1]);
            }
        }
    }
}

/// `rows` split into tiles of at most 6, as even as possible (50 → five
/// of 6 and four of 5, not eight of 6 and one of 2): `(first row, rows)`.
fn row_tiles(rows: usize) -> Vec<(usize, usize)> {
    let tiles = rows.div_ceil(TILE_ROWS);
    let mut out = Vec::with_capacity(tiles);
    let mut first = 0;
    for t in 0..tiles {
        let len = rows / tiles + usize::from(t < rows % tiles);
        out.push((first, len));
        first += len;
    }
    out
}

/// A destination shared by parallel tasks that write disjoint elements.
struct Shared<T>(*mut T);

// SAFETY: each user below writes a disjoint set of elements of a buffer
// that outlives its parallel loop.
unsafe impl<T: Send> Send for Shared<T> {}
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The pointer (a method, so that closures capture the whole `Shared`).
    fn get(&self) -> *mut T {
        self.0
    }
}

/// A new vector of `len` elements, every one written by `fill` (given the
/// uninitialized buffer's pointer).
///
/// # Safety
/// `fill` must write each of the `len` elements.
unsafe fn new_filled<T>(len: usize, fill: impl FnOnce(*mut T)) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    fill(v.as_mut_ptr());
    // SAFETY: the capacity holds `len` elements, all written by `fill`.
    unsafe { v.set_len(len) };
    v
}

/// A new vector of `len` elements written by `tasks` parallel tasks:
/// `task(t, out)` writes its own elements through `out`.
///
/// # Safety
/// The tasks together must write each of the `len` elements, and no two of
/// them the same element.
unsafe fn par_tasks_new<T: Send>(
    len: usize,
    tasks: usize,
    task: impl Fn(usize, *mut T) + Sync,
) -> Vec<T> {
    // SAFETY: the caller's contract: every element written, by one task.
    unsafe {
        new_filled(len, |out: *mut T| {
            let out = Shared(out);
            (0..tasks).into_par_iter().for_each(|t| task(t, out.get()));
        })
    }
}

/// `y (B, out) = x (B, in) · W + bias`, `W` in panels.
///
/// # Panics
/// If the lengths disagree with `(B, in, out)` or `out` is not a multiple
/// of 16 (callers check).
pub(crate) fn panel_forward<T: Element>(
    x: &[T],
    panels: &[T],
    bias: Option<&[T]>,
    batch: usize,
    inputs: usize,
    outputs: usize,
) -> Vec<T> {
    assert!(outputs.is_multiple_of(PANEL_WIDTH));
    assert_eq!(x.len(), batch * inputs, "input length");
    assert_eq!(panels.len(), inputs * outputs, "weight length");
    if let Some(b) = bias {
        assert_eq!(b.len(), outputs, "bias length");
    }
    if inputs == 0 {
        return match bias {
            Some(b) => b.iter().copied().cycle().take(batch * outputs).collect(),
            None => vec![T::default(); batch * outputs],
        };
    }
    let kernels = kernels_for::<T>();
    let n_panels = outputs / PANEL_WIDTH;
    // SAFETY: every panel task below writes, for each of its panels, the
    // 16 columns of that panel in every row (each row block's tiles cover
    // its rows; the first inner block overwrites, the rest accumulate onto
    // what it wrote), so all `batch·outputs` elements are written.
    unsafe {
        par_tasks_new(
            batch * outputs,
            n_panels.div_ceil(PANELS_PER_TASK),
            |task, y: *mut T| {
                let first = task * PANELS_PER_TASK;
                let last = (first + PANELS_PER_TASK).min(n_panels);
                for rows0 in (0..batch).step_by(ROW_BLOCK) {
                    let rows = ROW_BLOCK.min(batch - rows0);
                    let tiles = row_tiles(rows);
                    for panel in first..last {
                        let w = panels[panel * inputs * PANEL_WIDTH..].as_ptr();
                        for k0 in (0..inputs).step_by(K_BLOCK) {
                            let start = match (k0, bias) {
                                (0, Some(b)) => Start::Row(b[panel * PANEL_WIDTH..].as_ptr()),
                                (0, None) => Start::Zero,
                                _ => Start::Destination,
                            };
                            for &(i0, r) in &tiles {
                                let i = rows0 + i0;
                                // SAFETY: rows i..i+r < batch of x
                                // (row stride `inputs`) at columns
                                // k0..k0+k; panel rows k0..k0+k; y's
                                // rows i..i+r at this panel's columns.
                                (kernels.tiles[r - 1])(&Tile {
                                    k: K_BLOCK.min(inputs - k0),
                                    a: x.as_ptr().add(i * inputs + k0),
                                    a_row: inputs,
                                    a_k: 1,
                                    b: w.add(k0 * PANEL_WIDTH),
                                    b_k: PANEL_WIDTH,
                                    c: y.add(i * outputs + panel * PANEL_WIDTH),
                                    c_row: outputs,
                                    start,
                                });
                            }
                        }
                    }
                }
            },
        )
    }
}

/// `dW = xᵀ·dy` in panels: `x (B, in)`, `dy (B, out)`.
///
/// # Panics
/// If the lengths disagree with `(B, in, out)` or `out` is not a multiple
/// of 16 (callers check).
pub(crate) fn panel_weight_grad<T: Element>(
    x: &[T],
    dy: &[T],
    batch: usize,
    inputs: usize,
    outputs: usize,
) -> Vec<T> {
    assert!(outputs.is_multiple_of(PANEL_WIDTH));
    assert_eq!(x.len(), batch * inputs, "input length");
    assert_eq!(dy.len(), batch * outputs, "output gradient length");
    if batch == 0 {
        return vec![T::default(); inputs * outputs];
    }
    let kernels = kernels_for::<T>();
    let n_panels = outputs / PANEL_WIDTH;
    let tiles = row_tiles(inputs);
    // SAFETY: every panel's `(in, 16)` block is written in full by its row
    // tiles, each starting from zero.
    unsafe {
        par_tasks_new(
            inputs * outputs,
            n_panels.div_ceil(PANELS_PER_TASK),
            |task, dw: *mut T| {
                // This panel's columns of dy, contiguous: its rows lie
                // `out` apart, a multiple of 4 KB for the gate layer,
                // which would put all of them in one L1 set.
                let mut dy_panel = vec![T::default(); batch * PANEL_WIDTH];
                let first = task * PANELS_PER_TASK;
                for panel in first..(first + PANELS_PER_TASK).min(n_panels) {
                    for (b, row) in dy_panel.chunks_exact_mut(PANEL_WIDTH).enumerate() {
                        let at = b * outputs + panel * PANEL_WIDTH;
                        row.copy_from_slice(&dy[at..at + PANEL_WIDTH]);
                    }
                    for &(r0, r) in &tiles {
                        // SAFETY: x's columns r0..r0+r in rows < batch
                        // (A[i][p] = x[p·in + r0 + i]); dy_panel's
                        // batch × 16; the panel's rows r0..r0+r.
                        (kernels.tiles[r - 1])(&Tile {
                            k: batch,
                            a: x.as_ptr().add(r0),
                            a_row: 1,
                            a_k: inputs,
                            b: dy_panel.as_ptr(),
                            b_k: PANEL_WIDTH,
                            c: dw.add((panel * inputs + r0) * PANEL_WIDTH),
                            c_row: PANEL_WIDTH,
                            start: Start::Zero,
                        });
                    }
                }
            },
        )
    }
}

/// `dx (B, in) = dy (B, out) · Wᵀ`, `W` in panels.
///
/// Each task owns 128 columns of `dx` (rows of `W`) and walks the panels
/// in blocks of 16: it transposes its rows of the block into a buffer of
/// 16-column panels over `W`'s rows, `T[c][r]`, and runs the tile over it,
/// accumulating onto `dx` block after block. A row count that is not a
/// multiple of 16 is padded with zeros in the buffer and in a wider `dx`,
/// cut back at the end.
///
/// # Panics
/// If the lengths disagree with `(B, in, out)` or `out` is not a multiple
/// of 16 (callers check).
pub(crate) fn panel_input_grad<T: Element>(
    dy: &[T],
    panels: &[T],
    batch: usize,
    inputs: usize,
    outputs: usize,
) -> Vec<T> {
    assert!(outputs.is_multiple_of(PANEL_WIDTH));
    assert_eq!(dy.len(), batch * outputs, "output gradient length");
    assert_eq!(panels.len(), inputs * outputs, "weight length");
    if outputs == 0 || batch == 0 {
        return vec![T::default(); batch * inputs];
    }
    let kernels = kernels_for::<T>();
    let n_panels = outputs / PANEL_WIDTH;
    let padded = inputs.next_multiple_of(PANEL_WIDTH);
    let tiles = row_tiles(batch);
    // SAFETY: each task's 16-column groups of the padded dx are written in
    // every row by the first block's tiles (from zero), then accumulated.
    let dx = unsafe {
        par_tasks_new(
            batch * padded,
            padded.div_ceil(DX_ROWS),
            |task, dx: *mut T| {
                let r_first = task * DX_ROWS;
                let r_groups = (DX_ROWS.min(padded - r_first)) / PANEL_WIDTH;
                let mut t = vec![T::default(); r_groups * DX_PANELS * PANEL_WIDTH * PANEL_WIDTH];
                let mut dy_block = vec![T::default(); batch * DX_PANELS * PANEL_WIDTH];
                for p0 in (0..n_panels).step_by(DX_PANELS) {
                    let block = DX_PANELS.min(n_panels - p0);
                    let cols = block * PANEL_WIDTH;
                    // This block's columns of dy, contiguous: dy's
                    // rows lie `out` apart, all in one L1 set for the
                    // gate layer.
                    for (b, row) in dy_block.chunks_exact_mut(cols).take(batch).enumerate() {
                        row.copy_from_slice(&dy[b * outputs + p0 * PANEL_WIDTH..][..cols]);
                    }
                    // The task's rows of each panel, transposed into
                    // its groups (each panel's rows read in order).
                    for q in 0..block {
                        let panel =
                            &panels[(p0 + q) * inputs * PANEL_WIDTH..][..inputs * PANEL_WIDTH];
                        for g in 0..r_groups {
                            let r0 = r_first + g * PANEL_WIDTH;
                            let dst = &mut t[(g * cols + q * PANEL_WIDTH) * PANEL_WIDTH..]
                                [..PANEL_WIDTH * PANEL_WIDTH];
                            if r0 + PANEL_WIDTH <= inputs {
                                // SAFETY: 16 rows of 16 from row r0 of
                                // the panel, and 256 elements of `t`.
                                (kernels.transpose)(
                                    panel[r0 * PANEL_WIDTH..].as_ptr(),
                                    dst.as_mut_ptr(),
                                );
                                continue;
                            }
                            for rr in 0..PANEL_WIDTH {
                                for j in 0..PANEL_WIDTH {
                                    dst[j * PANEL_WIDTH + rr] = if r0 + rr < inputs {
                                        panel[(r0 + rr) * PANEL_WIDTH + j]
                                    } else {
                                        T::default()
                                    };
                                }
                            }
                        }
                    }
                    for g in 0..r_groups {
                        let group = &t[g * cols * PANEL_WIDTH..(g + 1) * cols * PANEL_WIDTH];
                        for &(i0, r) in &tiles {
                            // SAFETY: dy_block's rows i0..i0+r (row
                            // stride cols); the group's cols × 16;
                            // dx's rows i0..i0+r at this group's columns
                            // (padded width).
                            (kernels.tiles[r - 1])(&Tile {
                                k: cols,
                                a: dy_block.as_ptr().add(i0 * cols),
                                a_row: cols,
                                a_k: 1,
                                b: group.as_ptr(),
                                b_k: PANEL_WIDTH,
                                c: dx.add(i0 * padded + r_first + g * PANEL_WIDTH),
                                c_row: padded,
                                start: if p0 == 0 {
                                    Start::Zero
                                } else {
                                    Start::Destination
                                },
                            });
                        }
                    }
                }
            },
        )
    };
    if padded == inputs {
        return dx;
    }
    dx.chunks_exact(padded)
        .flat_map(|row| row[..inputs].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(in, out)` row-major → `out / 16` panels of `(in, 16)`.
    ///
    /// # Panics
    /// If `out` is not a multiple of 16 or the length disagrees (callers check).
    fn pack_panels<T: Copy>(w: &[T], inputs: usize, outputs: usize) -> Vec<T> {
        assert!(outputs.is_multiple_of(PANEL_WIDTH) && w.len() == inputs * outputs);
        let mut p = Vec::with_capacity(w.len());
        for panel in 0..outputs / PANEL_WIDTH {
            for r in 0..inputs {
                let at = r * outputs + panel * PANEL_WIDTH;
                p.extend_from_slice(&w[at..at + PANEL_WIDTH]);
            }
        }
        p
    }

    /// The inverse of [`pack_panels`].
    ///
    /// # Panics
    /// If `out` is not a multiple of 16 or the length disagrees (callers check).
    fn unpack_panels<T: Copy>(p: &[T], inputs: usize, outputs: usize) -> Vec<T> {
        assert!(outputs.is_multiple_of(PANEL_WIDTH) && p.len() == inputs * outputs);
        let panels = outputs / PANEL_WIDTH;
        let mut w = Vec::with_capacity(p.len());
        for r in 0..inputs {
            for panel in 0..panels {
                let at = (panel * inputs + r) * PANEL_WIDTH;
                w.extend_from_slice(&p[at..at + PANEL_WIDTH]);
            }
        }
        w
    }

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        (0..cols)
            .flat_map(|c| (0..rows).map(move |r| a[r * cols + c]))
            .collect()
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    fn close(a: &[f64], b: &[f64], tol: f64) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol, "element {i}: {x} against {y}");
        }
    }

    #[test]
    fn tiles_cover_the_rows_evenly() {
        assert_eq!(row_tiles(0), vec![]);
        assert_eq!(row_tiles(1), vec![(0, 1)]);
        let fifty = row_tiles(50);
        assert_eq!(
            fifty.iter().map(|t| t.1).collect::<Vec<_>>(),
            [6, 6, 6, 6, 6, 5, 5, 5, 5]
        );
        for rows in 1..200 {
            let t = row_tiles(rows);
            assert_eq!(t.iter().map(|t| t.1).sum::<usize>(), rows);
            assert!(t.iter().all(|t| (1..=TILE_ROWS).contains(&t.1)));
            assert!(t.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0));
        }
    }

    #[test]
    fn packing_round_trips_and_puts_sixteen_columns_together() {
        let (i, o) = (3, 32);
        let w: Vec<usize> = (0..i * o).collect();
        let p = pack_panels(&w, i, o);
        assert_eq!(&p[..16], &(0..16).collect::<Vec<_>>()[..]);
        assert_eq!(&p[16..32], &(32..48).collect::<Vec<_>>()[..]);
        assert_eq!(p[3 * 16], 16);
        assert_eq!(unpack_panels(&p, i, o), w);
    }

    /// Every product against the naive one in f64 (the portable tile),
    /// over shapes that leave partial tiles, partial inner blocks, a row
    /// count that is not a multiple of 16 and batches above a row block.
    #[test]
    fn the_three_products_match_the_naive_ones() {
        for &(b, i, o) in &[
            (1, 1, 16),
            (5, 7, 32),
            (50, 40, 48),
            (7, 300, 16),
            (70, 17, 64),
            (3, 130, 528),
        ] {
            let x = values(b * i, 1);
            let w = values(i * o, 2);
            let bias = values(o, 3);
            let dy = values(b * o, 4);
            let p = pack_panels(&w, i, o);
            let tol = 1e-12 * (i.max(o).max(b) as f64);
            let mut want = naive(&x, &w, b, i, o);
            close(&panel_forward(&x, &p, None, b, i, o), &want, tol);
            for (k, v) in want.iter_mut().enumerate() {
                *v += bias[k % o];
            }
            close(&panel_forward(&x, &p, Some(&bias), b, i, o), &want, tol);
            let dw = naive(&transpose(&x, b, i), &dy, i, b, o);
            close(
                &panel_weight_grad(&x, &dy, b, i, o),
                &pack_panels(&dw, i, o),
                tol,
            );
            let dx = naive(&dy, &transpose(&w, i, o), b, o, i);
            close(&panel_input_grad(&dy, &p, b, i, o), &dx, tol);
        }
    }

    /// The f32 kernels (AVX2 where the CPU has it) against the f64 ones.
    #[test]
    fn f32_products_match_f64_within_rounding() {
        let (b, i, o) = (13, 70, 96);
        let (x, w, bias, dy) = (
            values(b * i, 5),
            values(i * o, 6),
            values(o, 7),
            values(b * o, 8),
        );
        let p = pack_panels(&w, i, o);
        let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        let back = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
        let tol = 1e-5;
        close(
            &back(panel_forward(&f(&x), &f(&p), Some(&f(&bias)), b, i, o)),
            &panel_forward(&x, &p, Some(&bias), b, i, o),
            tol,
        );
        close(
            &back(panel_weight_grad(&f(&x), &f(&dy), b, i, o)),
            &panel_weight_grad(&x, &dy, b, i, o),
            tol,
        );
        close(
            &back(panel_input_grad(&f(&dy), &f(&p), b, i, o)),
            &panel_input_grad(&dy, &p, b, i, o),
            tol,
        );
    }

    /// The AVX2 tile and the portable one compute the same products.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_tiles_agree() {
        if !avx2_fma_available() {
            return;
        }
        let (k, rows) = (37, 6);
        let a: Vec<f32> = values(rows * k, 9).into_iter().map(|v| v as f32).collect();
        let b: Vec<f32> = values(k * 16, 10).into_iter().map(|v| v as f32).collect();
        let bias: Vec<f32> = values(16, 11).into_iter().map(|v| v as f32).collect();
        for r in 1..=rows {
            for start in [Start::Zero, Start::Row(bias.as_ptr()), Start::Destination] {
                let mut c1: Vec<f32> = values(r * 16, 12).into_iter().map(|v| v as f32).collect();
                let mut c2 = c1.clone();
                for (c, kernels) in [
                    (&mut c1, avx2::KERNELS),
                    (&mut c2, portable_kernels().tiles),
                ] {
                    // SAFETY: a holds rows × k, b k × 16, c r × 16.
                    unsafe {
                        kernels[r - 1](&Tile {
                            k,
                            a: a.as_ptr(),
                            a_row: k,
                            a_k: 1,
                            b: b.as_ptr(),
                            b_k: 16,
                            c: c.as_mut_ptr(),
                            c_row: 16,
                            start,
                        });
                    }
                }
                for (x, y) in c1.iter().zip(&c2) {
                    assert!((x - y).abs() <= 1e-5, "{x} against {y}");
                }
            }
        }
        let src: Vec<f32> = (0..256).map(|v| v as f32).collect();
        let (mut t1, mut t2) = (vec![0f32; 256], vec![0f32; 256]);
        // SAFETY: 256 elements each.
        unsafe {
            avx2::transpose_entry(src.as_ptr(), t1.as_mut_ptr());
            transpose_portable(src.as_ptr(), t2.as_mut_ptr());
        }
        assert_eq!(t1, t2);
        assert_eq!(t2[16], 1.0);
        assert_eq!(t2[1], 16.0);
    }
}
