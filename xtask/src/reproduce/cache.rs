//! The hash-keyed cache of `cargo xtask reproduce` under
//! `results/<profile>/cache/`: where each unit of work's result lives, how
//! it is loaded, and how it is written (atomically, once finished).
//!
//! - `models/<model>-run<r>-<hash>/`: the checkpoint after every epoch
//!   (resumed exactly after a kill) and `done.json` when finished;
//! - `<folder>/<stem>-<hash>.json` for every other unit of work
//!   ([`sgbn_eval::Work`]: `evals/`, `clean/`, `transfer/`, `masking/`,
//!   `accuracy/`, `examples/`, `gates/`, `gradients/`, `toy/`, `tsne/`; the
//!   stem is `<model>-run<r>` of the model it measures).

use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::Device;
use serde::{Deserialize, Serialize};
use sgbn_data::Dataset;
use sgbn_defenses::trained_slope;
use sgbn_eval::{
    AnyWork, DataSource, ModelSource, Planned, Results, TrainJob, TrainedModel, WorkInputs,
    key_hash,
};
use sgbn_eval::{CACHE_KEY_FIELD, check_cached_result};
use sgbn_models::{Checkpoint, ConvNet, write_atomic};

/// The cache folder and the device models run on.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    device: Device,
}

/// The key hash a cache file answers: the last `-` part of its name (for
/// `done.json`, of its run's folder).
pub(super) fn key_of(path: &Path) -> String {
    let name = if path.file_name().is_some_and(|n| n == "done.json") {
        path.parent().and_then(Path::file_name)
    } else {
        path.file_stem()
    };
    name.map(|n| n.to_string_lossy().into_owned())
        .and_then(|n| n.rsplit_once('-').map(|(_, h)| h.to_string()))
        .unwrap_or_default()
}

/// The JSON at `path`, when it is there (a file that is not JSON is
/// logged and treated as missing).
fn read_json(path: &Path) -> Option<serde_json::Value> {
    let text = sgbn_models::read_regular_text(path).ok()?;
    serde_json::from_str(&text)
        .map_err(|e| {
            tracing::warn!(path = %path.display(), reason = %format!("not JSON: {e}"), "invalid cache entry: recomputing it");
        })
        .ok()
}

/// The training record at `path`, when there is one that passes
/// [`check_cached_result`]; a damaged or implausible entry is logged with
/// its file and the reason, and treated as missing (resumed).
fn cached<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let value = read_json(path)?;
    let invalid = |reason: String| {
        tracing::warn!(path = %path.display(), %reason, "invalid cache entry: recomputing it");
        None
    };
    if let Err(reason) = check_cached_result(&value, &key_of(path)) {
        return invalid(reason);
    }
    match serde_json::from_value(value) {
        Ok(r) => Some(r),
        Err(e) => invalid(format!("not the expected result: {e}")),
    }
}

impl Cache {
    /// The cache under `root` (created when missing).
    pub fn open(root: &Path, device: Device) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        Ok(Self {
            root: root.to_path_buf(),
            device,
        })
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Refuses a symbolic link at any level between the cache folder and
    /// `path` (the cache folder itself may be one, e.g. to a larger disk;
    /// the cache never makes links, so one inside it was planted and could
    /// redirect a write; docs/robustness.md).
    pub(super) fn check_no_links(&self, path: &Path) -> anyhow::Result<()> {
        let rel = path.strip_prefix(&self.root).with_context(|| {
            format!(
                "{} is outside the cache {}",
                path.display(),
                self.root.display()
            )
        })?;
        let mut at = self.root.clone();
        for part in rel.components() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
                    "{} is a symbolic link inside the cache: the cache never makes links, so \
                     this one was put there by hand; remove it (or point --out at the real \
                     folder) and run again",
                    at.display()
                ),
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes `result` to `path` atomically (creating its folder), with the
    /// key it answers ([`CACHE_KEY_FIELD`]), and returns it.
    fn store<T: Serialize>(&self, path: &Path, result: T) -> anyhow::Result<T> {
        self.check_no_links(path)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut value = serde_json::to_value(&result)?;
        if let Some(map) = value.as_object_mut() {
            map.insert(CACHE_KEY_FIELD.into(), key_of(path).into());
        }
        write_atomic(path, serde_json::to_string_pretty(&value)?.as_bytes())?;
        Ok(result)
    }

    /// The folder of a training run.
    pub fn model_dir(&self, job: &TrainJob) -> sgbn_eval::Result<PathBuf> {
        Ok(self.root.join("models").join(format!(
            "{}-run{}-{}",
            job.model,
            job.run,
            key_hash(job)?
        )))
    }

    /// Whether the training run finished (an unreadable `done.json` does
    /// not count: [`Cache::train`] then resumes the run, with a warning).
    pub fn is_trained(&self, job: &TrainJob) -> bool {
        Results::trained(self, job).is_some()
    }

    /// Trains (or resumes) `job`; the cached result when it is done.
    pub fn train(&self, job: &TrainJob, train_set: &Dataset) -> anyhow::Result<TrainedModel> {
        let dir = self.model_dir(job)?;
        let done = dir.join("done.json");
        if let Some(result) = cached::<TrainedModel>(&done) {
            return Ok(result);
        }
        if done.exists() {
            // Written atomically, so only damage from outside gets here: say
            // so and resume from the last checkpoint instead of failing.
            tracing::warn!(path = %done.display(), "unreadable done.json: resuming the training run");
        }
        let base = match &job.base {
            Some(base) => {
                self.train(base, train_set)?;
                Some(self.model_dir(base)?.join("checkpoint.safetensors"))
            }
            None => None,
        };
        self.check_no_links(&dir.join("checkpoint.safetensors"))?;
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let out = job
            .train(
                train_set,
                &dir.join("checkpoint.safetensors"),
                base.as_deref(),
                &self.device,
            )
            .with_context(|| format!("training {} run {}", job.model, job.run))?;
        self.store(&done, out)
    }

    /// The trained model of `job` (frozen: attacks compute no parameter
    /// gradients) and the slope of its binary units.
    pub fn load_model(&self, job: &TrainJob) -> sgbn_eval::Result<(ConvNet, f64)> {
        let dir = self.model_dir(job)?;
        if !self.is_trained(job) {
            // A checkpoint without done.json is a run in progress (or a
            // killed one): never evaluate a half-trained model.
            return Err(sgbn_eval::EvalError::InvalidConfig(format!(
                "{} run {} is not trained yet (no done.json in {})",
                job.model,
                job.run,
                dir.display()
            )));
        }
        let path = dir.join("checkpoint.safetensors");
        if !path.exists() {
            // Restored from an archive (`cargo xtask archive restore`):
            // its results are here, its weights are not.
            return Err(sgbn_eval::EvalError::InvalidConfig(format!(
                "{} run {} is trained but its checkpoint is not in {} (its results were \
                 restored from an archive, which never holds weights): delete that folder and \
                 its results (`{}-run{}-*.json` in the other folders of the cache) and run the \
                 command again to retrain it, so that every result of the run is of one model",
                job.model,
                job.run,
                dir.display(),
                job.model,
                job.run
            )));
        }
        let ck = Checkpoint::read(&path, &self.device).map_err(|e| {
            sgbn_eval::EvalError::InvalidConfig(format!(
                "the cached model of {} run {} cannot be used ({e}); delete the folder {} \
                 and run the command again to retrain it",
                job.model,
                job.run,
                dir.display()
            ))
        })?;
        let model = ck.build_frozen(&self.device)?;
        Ok((model, trained_slope(&ck)?.unwrap_or(1.0)))
    }

    /// The stored result of `unit` when it is there and passes its checks
    /// (an entry that fails is logged with its file and the reason, and
    /// treated as missing: recomputed).
    pub fn held(&self, unit: &Planned) -> Option<serde_json::Value> {
        let path = self.root.join(unit.file());
        let value = read_json(&path)?;
        match unit.work.validate(&unit.key, &value) {
            Ok(()) => Some(value),
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "invalid cache entry: recomputing it");
                None
            }
        }
    }

    /// Whether the cache holds `unit`'s result ([`Cache::held`]).
    pub fn holds(&self, unit: &Planned) -> bool {
        self.held(unit).is_some()
    }

    /// Computes `unit` and stores its result, unless the cache holds it.
    pub fn compute(&self, unit: &Planned, data: &dyn DataSource) -> anyhow::Result<()> {
        if self.holds(unit) {
            return Ok(());
        }
        let inputs = WorkInputs {
            data,
            models: self,
            device: &self.device,
        };
        let result = unit
            .work
            .compute_json(&inputs)
            .with_context(|| unit.work.label())?;
        self.store(&self.root.join(unit.file()), result).map(drop)
    }
}

impl ModelSource for Cache {
    fn load(&self, job: &TrainJob) -> sgbn_eval::Result<(ConvNet, f64)> {
        self.load_model(job)
    }
}

impl Results for Cache {
    fn trained(&self, job: &TrainJob) -> Option<TrainedModel> {
        cached(&self.model_dir(job).ok()?.join("done.json"))
    }

    fn stored(&self, work: &dyn AnyWork, key: &str) -> Option<serde_json::Value> {
        let path = self
            .root
            .join(work.folder())
            .join(format!("{}-{key}.json", work.stem()));
        read_json(&path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_link_inside_the_cache_stops_the_write_but_the_cache_folder_may_be_one() {
        let tmp = tempfile::tempdir().expect("tmp");
        let real = tmp.path().join("real");
        std::fs::create_dir_all(&real).expect("real");
        // The --out folder itself as a link (to a larger disk, say): fine.
        let linked_root = tmp.path().join("linked");
        std::os::unix::fs::symlink(&real, &linked_root).expect("link root");
        let cache = Cache::open(&linked_root, Device::Cpu).expect("open");
        let ok = cache.root().join("evals").join("m-run0-abc.json");
        cache
            .store(&ok, serde_json::json!({"accuracy": 0.5}))
            .expect("write through the root link");
        assert!(real.join("evals/m-run0-abc.json").is_file());
        let stored: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&ok).expect("read")).expect("json");
        assert_eq!(stored["cache_key"], "abc");

        // A link planted inside the cache: refused, the target untouched.
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).expect("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, real.join("masking")).expect("plant");
        let bad = cache.root().join("masking").join("m-run0-abc.json");
        let err = cache
            .store(&bad, serde_json::json!({"accuracy": 0.5}))
            .expect_err("refused");
        assert!(
            err.to_string().contains("symbolic link inside the cache"),
            "{err}"
        );
        assert!(std::fs::read_dir(&elsewhere).expect("dir").next().is_none());
    }

    #[test]
    fn the_key_of_a_cache_file_is_the_last_part_of_its_name() {
        assert_eq!(
            key_of(Path::new("c/evals/sgbn-dt-run2-0123abcd.json")),
            "0123abcd"
        );
        assert_eq!(
            key_of(Path::new("c/models/1w-sgbn-run0-ff00/done.json")),
            "ff00"
        );
    }
}
