//! Checked matrix products on slices, over the `gemm` crate that candle
//! itself uses: a single-threaded one (callers parallelize over samples) and
//! one split over column blocks run in parallel (for skinny products such as
//! the gate's `50 × 512 · 512 × 51,200`, where the blocks run about 15–20 %
//! faster than one `gemm` call told to use every thread); and new output
//! vectors written in full without a zeroing pass first ([`gemm_new_par`],
//! [`par_fill_rows`]).

// The workspace's unsafe code (plus the one call of `par_fill_rows`, in
// `conv_kernel.rs`): `gemm::gemm` takes raw pointers and strides, and
// uninitialized outputs need `set_len`. Every length and stride is checked
// before it.
#![allow(unsafe_code)]

use super::element::Element;

/// A logical `rows × cols` matrix in a slice: row-major, or (when
/// `transposed`) the transpose of a row-major `cols × rows` matrix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub transposed: bool,
}

impl<'a, T> Mat<'a, T> {
    /// Row-major `rows × cols`.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            transposed: false,
        }
    }

    /// The transpose of this matrix (no copy).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            transposed: !self.transposed,
        }
    }

    /// (column stride, row stride) of the logical matrix.
    fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (self.rows as isize, 1)
        } else {
            (1, self.cols as isize)
        }
    }
}

/// `dst (m×n, row-major) = a (m×k) · b (k×n)`, or `dst += a · b` when
/// `accumulate`.
///
/// # Panics
/// If the shapes or slice lengths disagree (a bug in the caller, never a
/// data error: every caller derives them from one checked geometry).
pub(crate) fn gemm_into<T: Element>(dst: &mut [T], a: Mat<'_, T>, b: Mat<'_, T>, accumulate: bool) {
    gemm_with(dst, a, b, accumulate, gemm::Parallelism::None);
}

/// [`gemm_into`] with `gemm`'s own threading over rayon's pool, for one
/// large product.
pub(crate) fn gemm_into_par<T: Element>(
    dst: &mut [T],
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    accumulate: bool,
) {
    gemm_with(
        dst,
        a,
        b,
        accumulate,
        gemm::Parallelism::Rayon(rayon::current_num_threads()),
    );
}

/// Checks that `a (m×k)`, `b (k×n)` and their slices agree; `(m, k, n)`.
fn product_shape<T>(a: &Mat<'_, T>, b: &Mat<'_, T>) -> (usize, usize, usize) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions");
    assert_eq!(a.data.len(), m * k, "lhs length");
    assert_eq!(b.data.len(), k * n, "rhs length");
    (m, k, n)
}

/// `dst = a · b` into `m·n` row-major elements at `dst`, or `dst += a · b`
/// when `read_dst`, through `gemm::gemm`.
///
/// # Safety
/// `dst` must be valid for writes (and reads, when `read_dst`) of `m·n`
/// elements and alias neither operand; the operands must have passed
/// [`product_shape`], and `k > 0` (with `k = 0` `gemm` would leave an
/// unread destination unwritten).
unsafe fn gemm_raw<T: Element>(
    dst: *mut T,
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    read_dst: bool,
    parallelism: gemm::Parallelism,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let (a_cs, a_rs) = a.strides();
    let (b_cs, b_rs) = b.strides();
    // SAFETY: `dst` holds m·n elements addressed with row stride n and
    // column stride 1 (the caller's contract); `a` holds m·k elements and
    // `b` k·n, addressed by the strides of their layouts (checked by
    // `product_shape`); neither aliases `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            read_dst,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

fn gemm_with<T: Element>(
    dst: &mut [T],
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    let (m, k, n) = product_shape(&a, &b);
    assert_eq!(dst.len(), m * n, "destination length");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::default());
        }
        return;
    }
    // SAFETY: `dst` is a unique borrow of m·n elements, so it does not
    // alias `a` or `b`; shapes checked, k > 0.
    unsafe { gemm_raw(dst.as_mut_ptr(), a, b, accumulate, parallelism) }
}

/// `a (m×k) · b (k×n)` as a new row-major `m×n` vector, by one `gemm`
/// call with its own threading (as [`gemm_into_par`]) that writes every
/// element (`read_dst = false`): no zeroing pass over the output first.
///
/// # Panics
/// If the shapes or slice lengths disagree (a bug in the caller).
pub(crate) fn gemm_new_par<T: Element>(a: Mat<'_, T>, b: Mat<'_, T>) -> Vec<T> {
    let (m, k, n) = product_shape(&a, &b);
    if m == 0 || n == 0 || k == 0 {
        return vec![T::default(); m * n];
    }
    let mut dst: Vec<T> = Vec::with_capacity(m * n);
    // SAFETY: `dst` is a fresh allocation with capacity for m·n elements
    // (so it aliases nothing); with `read_dst = false` and k > 0 `gemm`
    // writes each of them without reading it, so all are initialized when
    // the length is set.
    unsafe {
        gemm_raw(
            dst.as_mut_ptr(),
            a,
            b,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        );
        dst.set_len(m * n);
    }
    dst
}

/// A new vector of `rows · row_len` elements whose row `r` is written by
/// `fill(r, row)`, rows in parallel, with no zeroing pass first.
///
/// # Safety
/// `fill` must write every element of each row it is given.
pub(crate) unsafe fn par_fill_rows<T, F>(rows: usize, row_len: usize, fill: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &mut [std::mem::MaybeUninit<T>]) + Sync,
{
    use rayon::prelude::*;
    let len = rows * row_len;
    let mut v: Vec<T> = Vec::with_capacity(len);
    if row_len > 0 {
        v.spare_capacity_mut()[..len]
            .par_chunks_mut(row_len)
            .enumerate()
            .for_each(|(r, row)| fill(r, row));
    }
    // SAFETY: the capacity holds `len` elements, and the caller's `fill`
    // wrote each of them (or there are none).
    unsafe { v.set_len(len) };
    v
}

/// Columns per block of [`par_gemm_columns`]: measured best for the gate's
/// 51,200-column products on 2 cores (1,024–2,048; 512 and 6,400 slower).
pub(crate) const COLUMN_BLOCK: usize = 2048;

/// The destination pointer, shared by the blocks: each writes its own
/// columns only.
struct SharedDst<T>(*mut T);

// SAFETY: the blocks of `par_gemm_columns` write disjoint column ranges of
// the destination, which outlives the parallel loop.
unsafe impl<T: Send> Send for SharedDst<T> {}
unsafe impl<T: Send> Sync for SharedDst<T> {}

/// `a (m×k) · b (k×n)` as a new row-major `m×n` vector, plus `bias (n)`
/// added to every row when given; the columns are split into blocks of
/// [`COLUMN_BLOCK`] computed in parallel, each by one single-threaded `gemm`
/// call, so the result does not depend on the thread count. The vector is
/// not zeroed first: every element is written exactly once by the product
/// (or the bias and then the product), which saves a pass over the output
/// (105 MB for the gate layer's weight gradient).
///
/// # Panics
/// If the shapes or slice lengths disagree (a bug in the caller).
pub(crate) fn par_gemm_columns<T: Element>(
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    bias: Option<&[T]>,
) -> Vec<T> {
    let len = a.rows * b.cols;
    let mut dst: Vec<T> = Vec::with_capacity(len);
    // SAFETY: `dst` has capacity for `len = m·n` elements, and
    // `par_gemm_columns_into` writes each of them (see its contract) before
    // the length is set.
    unsafe {
        par_gemm_columns_into(dst.as_mut_ptr(), len, a, b, bias);
        dst.set_len(len);
    }
    dst
}

/// Writes every one of the `m·n` elements of `dst` (never reading an element
/// before writing it): the bias (or zeros when `k = 0`), then the product,
/// accumulated onto the bias.
///
/// # Safety
/// `dst` must be valid for writes of `len` elements and alias neither `a`,
/// `b` nor `bias`.
unsafe fn par_gemm_columns_into<T: Element>(
    dst: *mut T,
    len: usize,
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    bias: Option<&[T]>,
) {
    use rayon::prelude::*;
    let (m, k, n) = product_shape(&a, &b);
    assert_eq!(len, m * n, "destination length");
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "bias length");
    }
    if m == 0 || n == 0 {
        return;
    }
    let (a_cs, a_rs) = a.strides();
    let (b_cs, b_rs) = b.strides();
    let out = SharedDst(dst);
    (0..n.div_ceil(COLUMN_BLOCK))
        .into_par_iter()
        .for_each(|block| {
            let out = &out;
            let j0 = block * COLUMN_BLOCK;
            let width = COLUMN_BLOCK.min(n - j0);
            // SAFETY: this block writes only the elements
            // `r·n + j0 .. r·n + j0 + width` of each row `r < m` (and reads
            // them only after writing them: the bias, then `gemm`
            // accumulating onto it, or `gemm` with `read_dst = false`, which
            // overwrites), inside the caller's `m·n` destination and
            // disjoint from every other block's;
            // `a` is read in full (m·k checked) and `b` at columns
            // `j0 .. j0 + width` of its `k` rows (k·n checked), through the
            // strides of their layouts.
            unsafe {
                let dst = out.0.add(j0);
                if let Some(bias) = bias {
                    for r in 0..m {
                        std::ptr::copy_nonoverlapping(bias.as_ptr().add(j0), dst.add(r * n), width);
                    }
                }
                if k == 0 {
                    if bias.is_none() {
                        for r in 0..m {
                            for c in 0..width {
                                dst.add(r * n + c).write(T::default());
                            }
                        }
                    }
                    return;
                }
                gemm::gemm(
                    m,
                    width,
                    k,
                    dst,
                    1,
                    n as isize,
                    bias.is_some(),
                    a.data.as_ptr(),
                    a_cs,
                    a_rs,
                    b.data.as_ptr().offset(j0 as isize * b_cs),
                    b_cs,
                    b_rs,
                    T::ONE,
                    T::ONE,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        c
    }

    fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        let mut t = vec![0.0; a.len()];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        t
    }

    #[test]
    fn every_transposition_and_accumulation_matches_the_naive_product() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.71).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let (at, bt) = (transpose(&a, m, k), transpose(&b, k, n));
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let lhs = if ta {
                Mat::new(&at, k, m).t()
            } else {
                Mat::new(&a, m, k)
            };
            let rhs = if tb {
                Mat::new(&bt, n, k).t()
            } else {
                Mat::new(&b, k, n)
            };
            let mut c = vec![0.0; m * n];
            gemm_into(&mut c, lhs, rhs, false);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "{ta} {tb}: {x} vs {y}");
            }
            gemm_into(&mut c, lhs, rhs, true);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - 2.0 * y).abs() < 1e-12, "accumulate {ta} {tb}");
            }
            let c = gemm_new_par(lhs, rhs);
            assert_eq!(c.len(), m * n);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "new {ta} {tb}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn a_new_product_is_large_enough_for_threads_and_without_inner_dimension_zero() {
        // Large enough for `gemm` to split the work over threads.
        let (m, k, n) = (64, 300, 200);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.71).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let c = gemm_new_par(Mat::new(&a, m, k), Mat::new(&b, k, n));
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-9, "{x} vs {y}");
        }
        let c: Vec<f64> = gemm_new_par(Mat::new(&[], 3, 0), Mat::new(&[], 0, 4));
        assert_eq!(c, vec![0.0f64; 12]);
    }

    #[test]
    fn filled_rows_hold_what_each_row_was_given() {
        let (rows, len) = (37, 11);
        // SAFETY: every element of each row is written.
        #[allow(unsafe_code)]
        let v: Vec<u32> = unsafe {
            par_fill_rows(rows, len, |r, row| {
                for (j, e) in row.iter_mut().enumerate() {
                    e.write((r * 100 + j) as u32);
                }
            })
        };
        let want: Vec<u32> = (0..rows)
            .flat_map(|r| (0..len).map(move |j| (r * 100 + j) as u32))
            .collect();
        assert_eq!(v, want);
        // SAFETY: no elements to write.
        #[allow(unsafe_code)]
        let empty: Vec<u32> = unsafe { par_fill_rows(5, 0, |_, _| {}) };
        assert!(empty.is_empty());
    }

    #[test]
    fn column_blocks_match_the_naive_product_with_and_without_bias() {
        // More columns than one block, and a ragged last block.
        let (m, k, n) = (3, 4, COLUMN_BLOCK + 37);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.71).cos()).collect();
        let bias: Vec<f64> = (0..n).map(|i| (i as f64 * 0.13).sin()).collect();
        let want = naive(&a, &b, m, k, n);
        let at = transpose(&a, m, k);
        for ta in [false, true] {
            let lhs = if ta {
                Mat::new(&at, k, m).t()
            } else {
                Mat::new(&a, m, k)
            };
            let c = par_gemm_columns(lhs, Mat::new(&b, k, n), None);
            assert_eq!(c.len(), m * n);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "{ta}: {x} vs {y}");
            }
            let c = par_gemm_columns(lhs, Mat::new(&b, k, n), Some(&bias));
            for (i, (x, y)) in c.iter().zip(&want).enumerate() {
                let expected = y + bias[i % n];
                assert!((x - expected).abs() < 1e-12, "{ta} bias: {x} vs {expected}");
            }
        }
        // No inner dimension: the bias alone, or zeros.
        let c = par_gemm_columns::<f64>(Mat::new(&[], 2, 0), Mat::new(&[], 0, n), None);
        assert_eq!(c.len(), 2 * n);
        assert!(c.iter().all(|&v| v == 0.0));
        let c = par_gemm_columns(Mat::new(&[], 2, 0), Mat::new(&[], 0, n), Some(&bias));
        assert_eq!(&c[..n], &bias[..]);
        assert_eq!(&c[n..], &bias[..]);
        // No rows or no columns: an empty product.
        assert!(
            par_gemm_columns(Mat::new(&[], 0, 3), Mat::new(&b[..3 * n], 3, n), None).is_empty()
        );
    }
}
