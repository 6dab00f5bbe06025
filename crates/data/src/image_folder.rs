//! Class-per-folder image sets (PNG or JPEG), e.g. the lossy CIFAR-10 JPEG
//! stand-in. Needs the `image-folder` feature (on by default).

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::{CIFAR10_CLASSES, Cifar10, DataError, Dataset, Result};

/// Options of [`load_image_folder`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFolderConfig {
    /// Decode to one grey channel instead of RGB.
    pub grayscale: bool,
    /// Class folder names in label order; `None`: every sub-folder, sorted
    /// by name.
    pub class_names: Option<Vec<String>>,
}

/// An image set read from `root/<class>/<image>`.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    /// Images `(N, C, H, W)` f32 in `[0, 1]`, labels by class folder.
    pub dataset: Dataset,
    /// Class names; the index is the label.
    pub class_names: Vec<String>,
    /// The image files, in the data set's order.
    pub files: Vec<PathBuf>,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| DataError::io(dir, e)))
        .collect::<Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

/// Reads every PNG/JPEG under `root/<class>/`, classes in sorted order (or
/// as `config.class_names` says), files in sorted order within a class. All
/// images must have the same size.
pub fn load_image_folder(root: &Path, config: &ImageFolderConfig) -> Result<ImageFolder> {
    let class_names = match &config.class_names {
        Some(names) => names.clone(),
        None => sorted_entries(root)?
            .into_iter()
            .filter(|p| p.is_dir())
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(String::from))
            .collect(),
    };
    if class_names.is_empty() {
        return Err(DataError::MissingFile {
            path: root.to_path_buf(),
            tried: format!("class sub-folders of {}", root.display()),
        });
    }
    let channels = if config.grayscale { 1 } else { 3 };
    let mut size: Option<(u32, u32)> = None;
    let (mut pixels, mut labels, mut files) = (Vec::new(), Vec::new(), Vec::new());
    for (label, class) in class_names.iter().enumerate() {
        let dir = root.join(class);
        if !dir.is_dir() {
            return Err(DataError::MissingFile {
                path: dir.clone(),
                tried: format!("class folder {}", dir.display()),
            });
        }
        for path in sorted_entries(&dir)?.into_iter().filter(|p| is_image(p)) {
            let bad = |reason: String| DataError::BadImage {
                path: path.clone(),
                reason,
            };
            let img = image::open(&path).map_err(|e| bad(format!("cannot decode: {e}")))?;
            let dims = (img.width(), img.height());
            match size {
                None => size = Some(dims),
                Some(s) if s != dims => {
                    return Err(bad(format!(
                        "size {}x{} differs from the first image's {}x{}",
                        dims.0, dims.1, s.0, s.1
                    )));
                }
                Some(_) => {}
            }
            let raw = if config.grayscale {
                img.to_luma8().into_raw()
            } else {
                img.to_rgb8().into_raw()
            };
            // HWC (interleaved) → CHW planes.
            let hw = raw.len() / channels;
            for c in 0..channels {
                pixels.extend((0..hw).map(|i| f32::from(raw[i * channels + c]) / 255.0));
            }
            labels.push(label as u32);
            files.push(path);
        }
    }
    let Some((w, h)) = size else {
        return Err(DataError::MissingFile {
            path: root.to_path_buf(),
            tried: format!("PNG or JPEG files under {}", root.display()),
        });
    };
    let n = labels.len();
    let images = Tensor::from_vec(pixels, (n, channels, h as usize, w as usize), &Device::Cpu)?;
    let dataset = Dataset::new(
        images,
        Tensor::from_vec(labels, n, &Device::Cpu)?,
        class_names.len(),
    )?;
    Ok(ImageFolder {
        dataset,
        class_names,
        files,
    })
}

/// Loads the **lossy** CIFAR-10 JPEG stand-in (`root/{train,test}/<class>/`),
/// with the official label order, the classes interleaved (ordered by file
/// name, then class). JPEG re-encoding changes pixel values:
/// results on it are not CIFAR-10 results and must be labelled as such.
pub fn load_cifar10_jpeg(root: &Path) -> Result<Cifar10> {
    let nested = root.join("cifar10-jpeg");
    let root = if nested.is_dir() {
        nested
    } else {
        root.to_path_buf()
    };
    let config = ImageFolderConfig {
        grayscale: false,
        class_names: Some(CIFAR10_CLASSES.iter().map(|c| c.to_string()).collect()),
    };
    Ok(Cifar10 {
        train: interleaved(load_image_folder(&root.join("train"), &config)?)?,
        test: interleaved(load_image_folder(&root.join("test"), &config)?)?,
    })
}

/// The images ordered by file name, then class (the classes interleaved):
/// a class-per-folder set's first k images would otherwise all be of its
/// first class.
fn interleaved(folder: ImageFolder) -> Result<Dataset> {
    let labels = folder.dataset.label_vec()?;
    let mut order: Vec<usize> = (0..folder.files.len()).collect();
    order.sort_by(|&a, &b| {
        (folder.files[a].file_name(), labels[a]).cmp(&(folder.files[b].file_name(), labels[b]))
    });
    folder.dataset.select(&order)
}
