//! A checked, single-threaded matrix product on slices, over the `gemm`
//! crate that candle itself uses. Callers parallelize over samples.

// The one unsafe call of the workspace: `gemm::gemm` takes raw pointers and
// strides. Every length and stride is checked before it.
#![allow(unsafe_code)]

/// Element types the conv kernels run in.
pub(crate) trait Element:
    Copy + Default + Send + Sync + 'static + std::ops::Add<Output = Self> + std::ops::Mul<Output = Self>
{
    /// One.
    const ONE: Self;
}

impl Element for f32 {
    const ONE: Self = 1.0;
}

impl Element for f64 {
    const ONE: Self = 1.0;
}

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
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions");
    assert_eq!(dst.len(), m * n, "destination length");
    assert_eq!(a.data.len(), m * k, "lhs length");
    assert_eq!(b.data.len(), k * n, "rhs length");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::default());
        }
        return;
    }
    let (a_cs, a_rs) = a.strides();
    let (b_cs, b_rs) = b.strides();
    // SAFETY: `dst` holds m·n elements addressed with row stride n and
    // column stride 1; `a` holds m·k elements and `b` k·n, addressed by the
    // strides of their layout (checked lengths above); `dst` is a unique
    // borrow, so it does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
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
            gemm::Parallelism::None,
        );
    }
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
        }
    }
}
