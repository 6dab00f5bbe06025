//! The IDX file format of MNIST (LeCun et al.): a big-endian header
//! `0x00 0x00 <type> <rank>`, `rank` u32 dimensions, then the payload.

use std::path::Path;

use crate::{DataError, Result};

/// IDX element type code of unsigned bytes.
pub const IDX_UBYTE: u8 = 0x08;

/// A parsed IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions from the header (the first is the item count).
    pub dims: Vec<usize>,
    /// The payload, row-major.
    pub data: Vec<u8>,
}

/// Parses an IDX file of unsigned bytes with `rank` dimensions. `path` is
/// used in errors only.
///
/// Errors: wrong magic number ([`DataError::BadMagic`]), a file shorter than
/// its header or payload ([`DataError::Truncated`]), a payload longer than
/// the header's count ([`DataError::CountMismatch`]).
pub fn parse_idx_u8(path: &Path, bytes: &[u8], rank: u8) -> Result<IdxArray> {
    let header_len = 4 + 4 * rank as usize;
    if bytes.len() < 4 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header_len,
            found: bytes.len(),
        });
    }
    let expected_magic = u32::from_be_bytes([0, 0, IDX_UBYTE, rank]);
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if magic != expected_magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected: expected_magic,
            found: magic,
        });
    }
    if bytes.len() < header_len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header_len,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let payload = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| DataError::BadDimensions {
            path: path.to_path_buf(),
            expected: "dimensions whose product fits in memory".into(),
            found: dims.clone(),
        })?;
    let expected = header_len + payload;
    if bytes.len() < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected,
            found: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(DataError::CountMismatch {
            path: path.to_path_buf(),
            header_count: dims.first().copied().unwrap_or(0),
            expected,
            found: bytes.len(),
        });
    }
    Ok(IdxArray {
        dims,
        data: bytes[header_len..].to_vec(),
    })
}
