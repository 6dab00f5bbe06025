//! What identifies a result: a hash of its whole configuration.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Result;

/// Bump when a change of code changes results: every cached result then
/// becomes stale and is recomputed.
pub const RESULTS_VERSION: &str = "sgbn-results-1";

/// A stable short hash (16 hex digits of SHA-256) of a serializable key:
/// the cache file name of a unit of work, and the stream of its generator.
pub fn key_hash<T: Serialize>(key: &T) -> Result<String> {
    let json = serde_json::to_vec(key)?;
    let digest = Sha256::digest(&json);
    Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_any_change_changes_the_hash() {
        let a = key_hash(&("cnn", 0, 0.3)).expect("hash");
        assert_eq!(a.len(), 16);
        assert_eq!(a, key_hash(&("cnn", 0, 0.3)).expect("hash"));
        assert_ne!(a, key_hash(&("cnn", 1, 0.3)).expect("hash"));
        assert_ne!(a, key_hash(&("cnn", 0, 0.2)).expect("hash"));
    }
}
