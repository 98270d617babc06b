//! Image files: one file, or every image of a folder in natural sort order.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use super::{FrameSource, Next, SourceKind};
use crate::error::{Error, Result};
use crate::frame::read_image_limited;

/// File extensions read as frames (what the enabled `image` features and libjpeg decode).
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// True when the path has an image extension (case-insensitive).
pub fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Compares names the way people count: `frame2` before `frame10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (&a[..na], &b[..nb]);
                let ta = trim_zeros(da);
                let tb = trim_zeros(db);
                let ord = ta
                    .len()
                    .cmp(&tb.len())
                    .then_with(|| ta.cmp(tb))
                    .then(na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let k = d.iter().take_while(|&&c| c == b'0').count();
    &d[k.min(d.len().saturating_sub(1))..]
}

/// The matcher of a `--pattern` glob over file names: `*` any run, `?` one character,
/// `[abc]` a class, `{a,b}` alternatives (globset's syntax).
///
/// # Errors
///
/// [`Error::InvalidParam`] for a malformed glob (an unclosed `[` or `{`).
pub fn name_matcher(pattern: &str) -> Result<globset::GlobMatcher> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| Error::InvalidParam {
            name: "pattern",
            value: format!("{pattern} ({})", e.kind()),
            expected: "a glob of file names: *, ?, [abc], {a,b}",
        })
}

/// One entry of the replay list: a frame file, or a file to report as skipped.
#[derive(Debug, Clone)]
enum Entry {
    Image(PathBuf),
    NotImage(PathBuf),
    /// A FIFO, socket or device: reading it could block for ever.
    NotRegular(PathBuf),
}

/// Frames from image files.
#[derive(Debug)]
pub struct ImageFiles {
    entries: Vec<Entry>,
    /// Entries reported as skipped once: not tried (nor reported) again on later passes of a
    /// looped replay.
    failed: Vec<bool>,
    max_pixels: usize,
    pos: usize,
    frame_index: u64,
    what: String,
}

impl ImageFiles {
    /// One image file, or every file of a folder (natural order; `pattern` selects names,
    /// e.g. `frame_*`). In a folder, files without an image extension are reported as
    /// skipped; a single file must have one. An empty selection is an error.
    pub fn open(path: &Path, pattern: Option<&str>) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let matcher = pattern.map(name_matcher).transpose()?;
        let mut entries = Vec::new();
        if meta.is_dir() {
            let rd = std::fs::read_dir(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let mut files: Vec<(String, PathBuf, bool)> = Vec::new();
            for e in rd {
                let e = e.map_err(|source| Error::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let p = e.path();
                if p.is_dir() {
                    continue;
                }
                let regular = std::fs::metadata(&p).is_ok_and(|m| m.is_file());
                if matcher.as_ref().is_some_and(|m| !m.is_match(&name)) {
                    continue;
                }
                files.push((name, p, regular));
            }
            files.sort_by(|a, b| natural_cmp(&a.0, &b.0));
            for (_, p, regular) in files {
                entries.push(if !regular {
                    Entry::NotRegular(p)
                } else if has_image_extension(&p) {
                    Entry::Image(p)
                } else {
                    Entry::NotImage(p)
                });
            }
            if !entries.iter().any(|e| matches!(e, Entry::Image(_))) {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!(
                            "no image files (.{}){} in this folder",
                            IMAGE_EXTENSIONS.join(", ."),
                            pattern
                                .map(|p| format!(" matching '{p}'"))
                                .unwrap_or_default()
                        ),
                    ),
                });
            }
        } else {
            if !has_image_extension(path) {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "unsupported file type (expected .{}, .y4m, a folder, or - for y4m on stdin)",
                            IMAGE_EXTENSIONS.join(", .")
                        ),
                    ),
                });
            }
            if !meta.is_file() {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not a regular file (a FIFO, socket or device); y4m streams can come \
                         from a pipe: name it *.y4m, or use - for stdin",
                    ),
                });
            }
            entries.push(Entry::Image(path.to_path_buf()));
        }
        Ok(Self {
            failed: vec![false; entries.len()],
            max_pixels: crate::pipeline::DEFAULT_MAX_PIXELS,
            entries,
            pos: 0,
            frame_index: 0,
            what: path.display().to_string(),
        })
    }

    /// Refuses images of more than `limit` pixels from their headers, before decoding
    /// (default [`DEFAULT_MAX_PIXELS`](crate::pipeline::DEFAULT_MAX_PIXELS)).
    pub fn with_max_pixels(mut self, limit: usize) -> Self {
        self.max_pixels = limit;
        self
    }

    /// Number of image files selected.
    pub fn image_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::Image(_)))
            .count()
    }
}

impl FrameSource for ImageFiles {
    fn next(&mut self) -> Result<Next> {
        loop {
            let Some(entry) = self.entries.get(self.pos).cloned() else {
                return Ok(Next::End);
            };
            let at = self.pos;
            self.pos += 1;
            if self.failed[at] {
                continue;
            }
            let skipped = |p: &Path, reason: String| Next::Skipped {
                origin: p.display().to_string(),
                reason,
            };
            let next = match entry {
                Entry::NotImage(p) => skipped(&p, "not an image file".into()),
                Entry::NotRegular(p) => skipped(
                    &p,
                    "not a regular file (a FIFO, socket or device), not read".into(),
                ),
                Entry::Image(p) => {
                    match read_image_limited(&p, self.frame_index, self.max_pixels) {
                        Ok(f) => {
                            self.frame_index += 1;
                            return Ok(Next::Frame(f));
                        }
                        Err(e) => skipped(
                            &p,
                            match e {
                                Error::Image { source, .. } => source.to_string(),
                                Error::Io { source, .. } => source.to_string(),
                                other => crate::error::with_causes(&other),
                            },
                        ),
                    }
                }
            };
            self.failed[at] = true;
            return Ok(next);
        }
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Replay
    }

    fn len_hint(&self) -> Option<u64> {
        Some(self.entries.len() as u64)
    }

    fn rewind(&mut self) -> Result<bool> {
        self.pos = 0;
        Ok(true)
    }

    fn describe(&self) -> String {
        format!("{} ({} images)", self.what, self.image_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec![
            "f10.png", "f2.png", "f1.png", "f002.png", "a.png", "f1b.png",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            vec!["a.png", "f1.png", "f1b.png", "f2.png", "f002.png", "f10.png"]
        );
    }

    #[test]
    fn patterns_select_file_names() {
        let m = |p: &str, name: &str| name_matcher(p).unwrap().is_match(name);
        assert!(m("frame_*", "frame_00001.png"));
        assert!(!m("frame_*", "mask_00001.png"));
        assert!(m("*.png", "x.png"));
        assert!(m("f?.png", "f1.png"));
        assert!(!m("f?.png", "f12.png"));
        assert!(m("*", ""));
        assert!(m("frame_[0-4]*", "frame_3.png") && !m("frame_[0-4]*", "frame_7.png"));
        assert!(m("*.{png,jpg}", "a.jpg") && !m("*.{png,jpg}", "a.gif"));
        let e = name_matcher("frame_[0-").unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParam {
                    name: "pattern",
                    ..
                }
            ),
            "{e}"
        );
    }
}
