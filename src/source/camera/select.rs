//! Which of a camera's modes to ask for: a pure function over what the camera offers, so the
//! choice is tested without a camera.

use super::{Interval, Mode};
use crate::source::raw::RawFormat;

/// Frame size asked for when none is given.
pub const DEFAULT_SIZE: (u32, u32) = (1280, 720);
/// Frame rate asked for when none is given.
pub const DEFAULT_FPS: u32 = 30;

/// One way to start a camera: a format, a size and a frame interval it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// Pixel format.
    pub format: RawFormat,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Frame interval (seconds per frame, as a fraction).
    pub interval: Interval,
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}x{}@{}",
            self.format.fourcc(),
            self.width,
            self.height,
            self.interval
        )
    }
}

/// Rank of a format: MJPEG first (a quarter of the USB bandwidth of YUYV, so the largest
/// sizes run at full rate), then YUYV, then the rarer uncompressed formats.
fn format_rank(f: RawFormat) -> usize {
    RawFormat::ALL
        .iter()
        .position(|&g| g == f)
        .unwrap_or(usize::MAX)
}

/// How far a size is from the one wanted: the sum of the width and height differences.
fn size_distance((w, h): (u32, u32), (ww, wh): (u32, u32)) -> u64 {
    u64::from(w.abs_diff(ww)) + u64::from(h.abs_diff(wh))
}

/// The modes to try, best first: MJPEG before YUYV (then the other formats layercam
/// decodes), within a format the size nearest `size` (ties: the larger), and for each
/// format and size the rate nearest `fps` among the rates offered *for that size* (ties:
/// the faster). One entry per format and size. Without `size` or `fps`, 1280×720 at
/// 30 frames/s is wanted.
///
/// ```
/// use layercam::source::camera::{choose_modes, Interval, Mode};
/// use layercam::source::raw::RawFormat;
/// let offered = [
///     Mode::new(RawFormat::Yuyv, 1280, 720, &[10]),
///     Mode::new(RawFormat::Mjpeg, 1920, 1080, &[30]),
///     Mode::new(RawFormat::Mjpeg, 800, 600, &[30, 15]),
/// ];
/// let order = choose_modes(&offered, Some((1280, 720)), None);
/// // MJPEG first, the nearer of its sizes first, then YUYV
/// assert_eq!(order[0].to_string(), "MJPG 800x600@30");
/// assert_eq!(order[1].to_string(), "MJPG 1920x1080@30");
/// assert_eq!(order[2].to_string(), "YUYV 1280x720@10");
/// ```
pub fn choose_modes(offered: &[Mode], size: Option<(u32, u32)>, fps: Option<u32>) -> Vec<Choice> {
    let want_size = size.unwrap_or(DEFAULT_SIZE);
    let want_fps = f64::from(fps.unwrap_or(DEFAULT_FPS));
    let mut out: Vec<Choice> = Vec::new();
    for m in offered {
        if m.width == 0 || m.height == 0 {
            continue;
        }
        // the rate nearest the one wanted among this size's rates; ties to the faster
        let best = m
            .intervals
            .iter()
            .filter(|i| i.num > 0 && i.den > 0)
            .min_by(|a, b| {
                let (fa, fb) = (a.fps(), b.fps());
                (fa - want_fps)
                    .abs()
                    .total_cmp(&(fb - want_fps).abs())
                    .then(fb.total_cmp(&fa))
            })
            .copied()
            // a mode that states no rate: ask for the wanted one, the driver picks
            .unwrap_or(Interval::per_second(fps.unwrap_or(DEFAULT_FPS)));
        let choice = Choice {
            format: m.format,
            width: m.width,
            height: m.height,
            interval: best,
        };
        // one entry per format and size (a camera may list a size twice)
        match out
            .iter_mut()
            .find(|c| (c.format, c.width, c.height) == (m.format, m.width, m.height))
        {
            Some(c) => {
                let d = |i: Interval| (i.fps() - want_fps).abs();
                if d(best) < d(c.interval) {
                    c.interval = best;
                }
            }
            None => out.push(choice),
        }
    }
    out.sort_by(|a, b| {
        format_rank(a.format)
            .cmp(&format_rank(b.format))
            .then(
                size_distance((a.width, a.height), want_size)
                    .cmp(&size_distance((b.width, b.height), want_size)),
            )
            .then(
                (u64::from(b.width) * u64::from(b.height))
                    .cmp(&(u64::from(a.width) * u64::from(a.height))),
            )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(f: RawFormat, w: u32, h: u32, rates: &[u32]) -> Mode {
        Mode::new(f, w, h, rates)
    }

    #[test]
    fn a_camera_without_the_requested_size_gets_the_nearest() {
        // a webcam offering neither 1280x720 nor the asked rate at its nearest size
        let offered = [
            m(RawFormat::Mjpeg, 640, 480, &[30, 15]),
            m(RawFormat::Mjpeg, 1920, 1080, &[15, 5]),
            m(RawFormat::Yuyv, 640, 480, &[30]),
        ];
        let c = choose_modes(&offered, None, None);
        // 1920x1080 is 640+360 away from 1280x720, 640x480 only 640+240
        assert_eq!(c[0].to_string(), "MJPG 640x480@30");
        assert_eq!(c[1].to_string(), "MJPG 1920x1080@15");
        assert_eq!(c[2].to_string(), "YUYV 640x480@30");
        let c = choose_modes(&offered, Some((1600, 1000)), Some(10));
        // 15 and 5 are as near 10: the faster
        assert_eq!(c[0].to_string(), "MJPG 1920x1080@15");
    }

    #[test]
    fn rates_are_those_of_the_chosen_size() {
        let offered = [
            m(RawFormat::Mjpeg, 1920, 1080, &[30]),
            m(RawFormat::Yuyv, 1920, 1080, &[5]),
            m(RawFormat::Yuyv, 640, 480, &[30]),
        ];
        let c = choose_modes(&offered, Some((1920, 1080)), Some(30));
        assert_eq!(c[1].to_string(), "YUYV 1920x1080@5");
        assert_eq!(c[2].to_string(), "YUYV 640x480@30");
    }

    #[test]
    fn fractional_rates_and_ties() {
        let offered = [Mode {
            format: RawFormat::Mjpeg,
            width: 1280,
            height: 720,
            intervals: vec![
                Interval {
                    num: 1001,
                    den: 30000,
                },
                Interval { num: 1, den: 25 },
            ],
        }];
        let c = choose_modes(&offered, None, Some(30));
        assert_eq!(
            c[0].interval,
            Interval {
                num: 1001,
                den: 30000
            }
        );
        // equal distance: the larger size, the faster rate
        let offered = [
            m(RawFormat::Mjpeg, 1270, 720, &[20, 40]),
            m(RawFormat::Mjpeg, 1290, 720, &[30]),
        ];
        let c = choose_modes(&offered, None, Some(30));
        assert_eq!(c[0].to_string(), "MJPG 1290x720@30");
        assert_eq!(c[1].to_string(), "MJPG 1270x720@40");
    }

    #[test]
    fn nothing_offered_nothing_chosen() {
        assert!(choose_modes(&[], None, None).is_empty());
        assert!(choose_modes(&[m(RawFormat::Mjpeg, 0, 480, &[30])], None, None).is_empty());
    }
}
