//! Geometry for the maps: longitudes unwrapped across the date line, the frame that
//! fits the tracks, degree labels, and clipping to the frame.

/// A longitude/latitude rectangle in unwrapped degrees: `lon_min` may be below -180
/// or `lon_max` above 180 when the frame spans the date line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Western edge, unwrapped degrees east.
    pub lon_min: f64,
    /// Eastern edge, unwrapped degrees east.
    pub lon_max: f64,
    /// Southern edge, degrees north.
    pub lat_min: f64,
    /// Northern edge, degrees north.
    pub lat_max: f64,
}

impl Frame {
    /// Width in degrees of longitude.
    pub fn width(&self) -> f64 {
        self.lon_max - self.lon_min
    }

    /// Height in degrees of latitude.
    pub fn height(&self) -> f64 {
        self.lat_max - self.lat_min
    }
}

/// Smallest frame, degrees of longitude and latitude: a storm that hardly moved is
/// still shown with the coast around it.
pub const MIN_WIDTH: f64 = 24.0;
/// Smallest frame height, degrees of latitude.
pub const MIN_HEIGHT: f64 = 16.0;

/// `lon` moved by whole turns into `[-180, 180)`.
pub fn normalize_lon(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// Longitudes made continuous: each one is moved by whole turns to lie within 180°
/// of the one before, so 179.5 then -179.5 becomes 179.5 then 180.5.
pub fn unwrap_lons(lons: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(lons.len());
    for &lon in lons {
        let next = match out.last() {
            None => lon,
            Some(&prev) => prev + normalize_lon(lon - prev),
        };
        out.push(next);
    }
    out
}

/// Shifts each unwrapped track by whole turns so that all of them lie in the
/// narrowest band of longitudes: the band starts after the widest gap between the
/// points' longitudes around the globe. Tracks that straddle the date line then sit
/// next to their neighbours instead of 360° away.
pub fn align_tracks(tracks: &mut [Vec<f64>]) {
    let mut all: Vec<f64> = tracks
        .iter()
        .flatten()
        .map(|&l| normalize_lon(l))
        .filter(|l| l.is_finite())
        .collect();
    if all.is_empty() {
        return;
    }
    all.sort_by(f64::total_cmp);
    // The widest gap, including the one that wraps from the last back to the first.
    let (mut gap, mut start) = (all[0] + 360.0 - all[all.len() - 1], all[0]);
    for w in all.windows(2) {
        if w[1] - w[0] > gap {
            gap = w[1] - w[0];
            start = w[1];
        }
    }
    for track in tracks.iter_mut() {
        let Some(&first) = track.first() else {
            continue;
        };
        // Put the first point in [start, start + 360).
        let shift = (first - start).div_euclid(360.0) * -360.0;
        for lon in track.iter_mut() {
            *lon += shift;
        }
    }
}

/// The frame around points (unwrapped longitude, latitude): their bounding box with a
/// margin, at least [`MIN_WIDTH`] x [`MIN_HEIGHT`] degrees, widened in one direction
/// so that its shape matches a plot area of `aspect` = width / height pixels when
/// longitudes are scaled by the cosine of the middle latitude. Latitudes stay within
/// -90..90. `None` without points.
pub fn fit_frame(points: impl IntoIterator<Item = (f64, f64)>, aspect: f64) -> Option<Frame> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return None;
    }
    let margin_x = ((x1 - x0) * 0.08).max(3.0);
    let margin_y = ((y1 - y0) * 0.08).max(3.0);
    let (mut x0, mut x1) = (x0 - margin_x, x1 + margin_x);
    let (mut y0, mut y1) = (y0 - margin_y, y1 + margin_y);
    grow(&mut x0, &mut x1, MIN_WIDTH);
    grow(&mut y0, &mut y1, MIN_HEIGHT);
    // Shape: degrees of longitude per degree of latitude on screen is cos(mid lat).
    let k = cos_deg((y0 + y1) / 2.0).max(0.2);
    let (w, h) = ((x1 - x0) * k, y1 - y0);
    if w / h < aspect {
        grow(&mut x0, &mut x1, h * aspect / k);
    } else {
        grow(&mut y0, &mut y1, w / aspect);
    }
    // Keep latitudes on the globe, sliding the frame rather than shrinking it.
    let h = (y1 - y0).min(180.0);
    if y1 > 90.0 {
        (y0, y1) = (90.0 - h, 90.0);
    }
    if y0 < -90.0 {
        (y0, y1) = (-90.0, -90.0 + h);
    }
    let w = (x1 - x0).min(360.0);
    let mid = (x0 + x1) / 2.0;
    Some(Frame {
        lon_min: mid - w / 2.0,
        lon_max: mid + w / 2.0,
        lat_min: y0,
        lat_max: y1,
    })
}

fn grow(lo: &mut f64, hi: &mut f64, min: f64) {
    if *hi - *lo < min {
        let mid = (*lo + *hi) / 2.0;
        *lo = mid - min / 2.0;
        *hi = mid + min / 2.0;
    }
}

fn cos_deg(d: f64) -> f64 {
    d.to_radians().cos()
}

/// A round step for graticule lines: about `target` lines across `extent` degrees.
pub fn graticule_step(extent: f64, target: f64) -> f64 {
    const STEPS: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0];
    STEPS
        .iter()
        .copied()
        .find(|s| extent / s <= target)
        .unwrap_or(90.0)
}

/// Multiples of `step` within `lo..=hi`.
pub fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut v = (lo / step).ceil() * step;
    while v <= hi + 1e-9 && out.len() < 1000 {
        out.push(v);
        v += step;
    }
    out
}

/// A longitude label, normalised to -180..180: `100°W`, `30°E`, `0°`, `180°`.
pub fn lon_label(lon: f64) -> String {
    let l = normalize_lon(lon);
    let l = if (l + 180.0).abs() < 1e-9 { 180.0 } else { l };
    let a = fmt_deg(l.abs());
    if l.abs() < 1e-9 || (l.abs() - 180.0).abs() < 1e-9 {
        format!("{a}°")
    } else if l < 0.0 {
        format!("{a}°W")
    } else {
        format!("{a}°E")
    }
}

/// A latitude label: `20°N`, `15°S`, `0°`.
pub fn lat_label(lat: f64) -> String {
    let a = fmt_deg(lat.abs());
    if lat.abs() < 1e-9 {
        format!("{a}°")
    } else if lat < 0.0 {
        format!("{a}°S")
    } else {
        format!("{a}°N")
    }
}

fn fmt_deg(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A polygon clipped to the frame (Sutherland–Hodgman); empty when outside.
pub fn clip_polygon(ring: &[(f64, f64)], f: &Frame) -> Vec<(f64, f64)> {
    let mut pts = ring.to_vec();
    // Each edge: inside test and intersection with the boundary.
    let edges: [(u8, f64); 4] = [
        (0, f.lon_min),
        (1, f.lon_max),
        (2, f.lat_min),
        (3, f.lat_max),
    ];
    for (side, v) in edges {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &(f64, f64)| match side {
            0 => p.0 >= v,
            1 => p.0 <= v,
            2 => p.1 >= v,
            _ => p.1 <= v,
        };
        let cross = |a: (f64, f64), b: (f64, f64)| -> (f64, f64) {
            if side < 2 {
                let t = (v - a.0) / (b.0 - a.0);
                (v, a.1 + t * (b.1 - a.1))
            } else {
                let t = (v - a.1) / (b.1 - a.1);
                (a.0 + t * (b.0 - a.0), v)
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let cur = pts[i];
            let prev = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    if pts.len() < 3 {
        pts.clear();
    }
    pts
}

/// A segment clipped to the frame (Liang–Barsky); `None` when outside.
pub fn clip_segment(a: (f64, f64), b: (f64, f64), f: &Frame) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - f.lon_min),
        (dx, f.lon_max - a.0),
        (-dy, a.1 - f.lat_min),
        (dy, f.lat_max - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwrap_keeps_a_date_line_crossing_continuous() {
        assert_eq!(
            unwrap_lons(&[178.0, 179.5, -179.5, -178.0]),
            vec![178.0, 179.5, 180.5, 182.0]
        );
        assert_eq!(
            unwrap_lons(&[-179.0, 179.0, 170.0]),
            vec![-179.0, -181.0, -190.0]
        );
        assert_eq!(unwrap_lons(&[-90.0, -80.0]), vec![-90.0, -80.0]);
        assert!(unwrap_lons(&[]).is_empty());
    }

    #[test]
    fn normalize_and_labels() {
        assert_eq!(normalize_lon(180.5), -179.5);
        assert_eq!(normalize_lon(-190.0), 170.0);
        assert_eq!(lon_label(-100.0), "100°W");
        assert_eq!(lon_label(190.0), "170°W");
        assert_eq!(lon_label(180.0), "180°");
        assert_eq!(lon_label(-180.0), "180°");
        assert_eq!(lon_label(0.0), "0°");
        assert_eq!(lon_label(30.0), "30°E");
        assert_eq!(lat_label(20.0), "20°N");
        assert_eq!(lat_label(-15.0), "15°S");
        assert_eq!(lat_label(0.0), "0°");
        assert_eq!(lat_label(12.5), "12.5°N");
    }

    #[test]
    fn tracks_on_both_sides_of_the_date_line_are_aligned() {
        let mut tracks = vec![vec![175.0, 178.0], vec![-178.0, -175.0], vec![170.0]];
        align_tracks(&mut tracks);
        assert_eq!(
            tracks,
            vec![vec![175.0, 178.0], vec![182.0, 185.0], vec![170.0]]
        );
        // Atlantic tracks are left alone.
        let mut atlantic = vec![vec![-80.0, -90.0], vec![-40.0, -60.0]];
        align_tracks(&mut atlantic);
        assert_eq!(atlantic, vec![vec![-80.0, -90.0], vec![-40.0, -60.0]]);
    }

    #[test]
    fn the_frame_fits_the_points_with_a_margin_and_a_minimum_size() {
        let f = fit_frame([(-90.0, 25.0), (-89.0, 26.0)], 1.5).unwrap();
        assert!(f.width() >= MIN_WIDTH && f.height() >= MIN_HEIGHT, "{f:?}");
        assert!(f.lon_min < -90.0 && f.lon_max > -89.0);
        assert!(f.lat_min < 25.0 && f.lat_max > 26.0);
        let k = ((f.lat_min + f.lat_max) / 2.0).to_radians().cos();
        assert!((f.width() * k / f.height() - 1.5).abs() < 1e-6, "{f:?}");
        let big = fit_frame([(100.0, -80.0), (300.0, 85.0)], 1.5).unwrap();
        assert!(big.lat_min >= -90.0 && big.lat_max <= 90.0, "{big:?}");
        assert!(fit_frame([], 1.5).is_none());
    }

    #[test]
    fn clipping() {
        let f = Frame {
            lon_min: 0.0,
            lon_max: 10.0,
            lat_min: 0.0,
            lat_max: 10.0,
        };
        let square = [(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)];
        let c = clip_polygon(&square, &f);
        assert!(c
            .iter()
            .all(|p| p.0 >= 0.0 && p.1 >= 0.0 && p.0 <= 5.0 && p.1 <= 5.0));
        assert_eq!(c.len(), 4);
        assert!(clip_polygon(&[(20.0, 20.0), (30.0, 20.0), (30.0, 30.0)], &f).is_empty());
        assert_eq!(
            clip_segment((-5.0, 5.0), (15.0, 5.0), &f),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(clip_segment((-5.0, -5.0), (-1.0, 20.0), &f), None);
        assert_eq!(graticule_step(30.0, 8.0), 5.0);
        assert_eq!(ticks(-3.0, 11.0, 5.0), vec![0.0, 5.0, 10.0]);
    }
}
