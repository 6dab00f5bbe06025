//! The **lossy** CIFAR-10 JPEG stand-in read straight from its archive
//! (`cifar10-jpeg.tar.gz`: `cifar10-jpeg/{train,test}/<class>/NNNN.jpg`),
//! checked against its SHA-256. Needs the `image-folder` feature.
//!
//! JPEG re-encoding changes pixel values: results on it are not CIFAR-10
//! results, and everything computed on it must say so.

use std::{io::Read, path::Path};

use candle_core::{Device, Tensor};

use crate::{CIFAR10_CLASSES, Cifar10, DataError, Dataset, Result, verify_sha256};

/// File name of the stand-in archive.
pub const CIFAR10_JPEG_ARCHIVE: &str = "cifar10-jpeg.tar.gz";

/// SHA-256 of the stand-in archive as distributed to this project
/// (`shared/data/README.md`).
pub const CIFAR10_JPEG_ARCHIVE_SHA256: &str =
    "efac85c8ed52f4ead1e1f1b670d8dcf435d551fccebdd8b6365e0a01a504f3a4";

/// Largest image file accepted inside the archive: a 32 × 32 JPEG is a few
/// KiB; anything larger is not the stand-in.
const MAX_IMAGE_BYTES: u64 = 1 << 20;

/// Reads the archive at `path`, checks its SHA-256 against
/// [`CIFAR10_JPEG_ARCHIVE_SHA256`], and decodes every image (about 60,000).
pub fn load_cifar10_jpeg_archive(path: &Path) -> Result<Cifar10> {
    let bytes = crate::raw_file::read_regular(path).map_err(|e| DataError::io(path, e))?;
    verify_sha256(path, &bytes, CIFAR10_JPEG_ARCHIVE_SHA256)?;
    parse_cifar10_jpeg_archive(path, &bytes)
}

/// Decodes an archive laid out as the stand-in (`[cifar10-jpeg/]{train,test}/
/// <class>/<name>.jpg`, the ten official class names) without checking its
/// digest; `path` names it in errors. Images are ordered by file name, then
/// by class (the classes interleaved, so that the first k images hold every
/// class), as [`crate::load_cifar10_jpeg`] orders an extracted copy.
pub fn parse_cifar10_jpeg_archive(path: &Path, bytes: &[u8]) -> Result<Cifar10> {
    let bad = |reason: String| DataError::BadImage {
        path: path.to_path_buf(),
        reason,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    // (split, label, name, CHW pixels)
    let mut images: Vec<(usize, u32, String, Vec<f32>)> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar.gz archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("damaged archive: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| bad(format!("entry name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let kind = entry.header().entry_type();
        // Folders, and pax headers (the tar crate applies their fields to
        // the entries that follow).
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if !kind.is_file() {
            return Err(bad(format!("entry {name} is not a plain file")));
        }
        let parts: Vec<&str> = name
            .trim_start_matches("./")
            .trim_start_matches("cifar10-jpeg/")
            .split('/')
            .collect();
        let [split, class, file] = parts[..] else {
            return Err(bad(format!(
                "entry {name} is not {{train,test}}/<class>/<image>.jpg"
            )));
        };
        let split = match split {
            "train" => 0,
            "test" => 1,
            _ => {
                return Err(bad(format!(
                    "entry {name}: split {split:?} is not train or test"
                )));
            }
        };
        let label = CIFAR10_CLASSES
            .iter()
            .position(|c| *c == class)
            .ok_or_else(|| bad(format!("entry {name}: {class:?} is not a CIFAR-10 class")))?;
        if entry.size() > MAX_IMAGE_BYTES {
            return Err(bad(format!(
                "entry {name} holds {} bytes, more than an image of the stand-in",
                entry.size()
            )));
        }
        let mut raw = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut raw)
            .map_err(|e| bad(format!("entry {name}: {e}")))?;
        let img = image::load_from_memory_with_format(&raw, image::ImageFormat::Jpeg)
            .map_err(|e| bad(format!("entry {name}: cannot decode JPEG: {e}")))?;
        if (img.width(), img.height()) != (32, 32) {
            return Err(bad(format!(
                "entry {name} is {}x{}, not 32x32",
                img.width(),
                img.height()
            )));
        }
        let rgb = img.to_rgb8().into_raw();
        // HWC (interleaved) → CHW planes.
        let pixels = (0..3)
            .flat_map(|c| (0..32 * 32).map(move |i| (c, i)))
            .map(|(c, i)| f32::from(rgb[i * 3 + c]) / 255.0)
            .collect();
        images.push((split, label as u32, file.to_string(), pixels));
    }
    // Classes interleaved (image 0000 of each class, then 0001, …): the
    // archive's class folders would otherwise make the first k images, which
    // a profile trains and tests on, all airplanes.
    images.sort_by(|a, b| (a.0, &a.2, a.1).cmp(&(b.0, &b.2, b.1)));
    let mut sets = Vec::new();
    for split in 0..2 {
        let (labels, pixels): (Vec<u32>, Vec<Vec<f32>>) = images
            .iter()
            .filter(|i| i.0 == split)
            .map(|i| (i.1, i.3.clone()))
            .unzip();
        if labels.is_empty() {
            return Err(bad(format!(
                "no {} images in the archive",
                ["train", "test"][split]
            )));
        }
        let n = labels.len();
        let images = Tensor::from_vec(pixels.concat(), (n, 3, 32, 32), &Device::Cpu)?;
        sets.push(Dataset::new(
            images,
            Tensor::from_vec(labels, n, &Device::Cpu)?,
            10,
        )?);
    }
    let test = sets.pop().expect("two sets");
    let train = sets.pop().expect("two sets");
    Ok(Cifar10 { train, test })
}
