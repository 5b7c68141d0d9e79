//! Drawing with plotters' SVG backend.

use chrono::{DateTime, Duration, Utc};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geo::{self, Frame};
use super::{code_order, world, Track, YearCounts};
use super::{CHART_HEIGHT, MAP_HEIGHT, MAX_NAME_LABELS, PANEL_HEIGHT, WIDTH};
use crate::codes::Category;
use crate::error::{Error, Result};

const FONT: &str = "sans-serif";
const SEA: RGBColor = RGBColor(220, 235, 245);
const LAND: RGBColor = RGBColor(239, 233, 216);
const COAST: RGBColor = RGBColor(130, 130, 130);
const GRID: RGBColor = RGBColor(90, 90, 110);
const INK: RGBColor = RGBColor(40, 40, 40);

// Map layout, pixels: the plot area's shape decides the frame's.
const MARGIN: u32 = 14;
const CAPTION: u32 = 44;
const X_LABELS: u32 = 30;
const Y_LABELS: u32 = 56;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A linear axis with our own tick positions (graticule lines, round years).
#[derive(Clone)]
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(lo: f64, hi: f64, step: f64) -> Ticked {
        Ticked {
            lo,
            hi,
            ticks: geo::ticks(lo, hi, step),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::Render(e.to_string())
}

fn rgb(c: Category) -> RGBColor {
    let (r, g, b) = c.rgb();
    RGBColor(r, g, b)
}

/// A code this crate does not know (a database newer than the crate): loud magenta,
/// so that it is not mistaken for any category, and named in the legend.
const UNKNOWN: RGBColor = RGBColor(255, 0, 255);

/// The colour of a stored code.
fn code_rgb(code: &str) -> RGBColor {
    Category::from_code(code).map_or(UNKNOWN, rgb)
}

/// The legend's text for a stored code.
fn code_label(code: &str) -> String {
    Category::from_code(code).map_or_else(
        || format!("Unknown code ({})", clean(code)),
        |c| c.label().to_string(),
    )
}

/// The distinct codes of `codes`, in legend order ([`Category::ALL`], unknown last).
fn legend_codes<'a>(codes: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    out.sort_by_key(|c| code_order(c));
    out
}

/// Text from the database made safe for a label: no control characters (they are not
/// allowed in XML even escaped), at most 64 characters. plotters escapes `<&>"'`.
fn clean(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn svg_document(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> Result<()>,
) -> Result<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        draw(&root)?;
        root.present().map_err(fail)?;
    }
    Ok(buf)
}

/// A map of `tracks` titled `title`: land, sea and coastlines around the tracks, a
/// graticule with degree labels, each track in time order with each segment coloured
/// by the category of the observation it starts from and a dot per observation, a
/// legend of the categories, and (for several tracks, at most
/// [`MAX_NAME_LABELS`](super::MAX_NAME_LABELS)) each storm's name at its first
/// position. The frame fits the tracks with a margin and a minimum size, and tracks
/// across the date line stay continuous. [`Error::InvalidInput`] without any
/// observation.
pub fn render_track_map(title: &str, tracks: &[Track]) -> Result<String> {
    // Unwrapped longitudes, per track, aligned with each other.
    let mut lons: Vec<Vec<f64>> = tracks
        .iter()
        .map(|t| geo::unwrap_lons(&t.points.iter().map(|p| p.lon).collect::<Vec<_>>()))
        .collect();
    geo::align_tracks(&mut lons);
    let plot_w = f64::from(WIDTH - 2 * MARGIN - Y_LABELS);
    let plot_h = f64::from(MAP_HEIGHT - 2 * MARGIN - CAPTION - X_LABELS);
    let frame = geo::fit_frame(
        tracks
            .iter()
            .zip(&lons)
            .flat_map(|(t, l)| l.iter().zip(&t.points).map(|(x, p)| (*x, p.lat))),
        plot_w / plot_h,
    )
    .ok_or_else(|| Error::InvalidInput("tracks: expected at least one observation".into()))?;

    svg_document(WIDTH, MAP_HEIGHT, |root| {
        draw_map(root, title, tracks, &lons, &frame)
    })
}

fn draw_map(
    root: &Area<'_>,
    title: &str,
    tracks: &[Track],
    lons: &[Vec<f64>],
    f: &Frame,
) -> Result<()> {
    let step = geo::graticule_step(f.width().max(f.height() * 1.5), 10.0);
    let mut chart = ChartBuilder::on(root)
        .caption(clean(title), (FONT, 26).into_font().color(&INK))
        .margin(MARGIN)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(
            Ticked::new(f.lon_min, f.lon_max, step),
            Ticked::new(f.lat_min, f.lat_max, step),
        )
        .map_err(fail)?;
    chart.plotting_area().fill(&SEA).map_err(fail)?;

    // Land: every ring that meets the frame, shifted by a turn where needed.
    let mut coast: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut polys: Vec<(Vec<(f64, f64)>, bool)> = Vec::new();
    for ring in world::land() {
        let (w, e, s, n) = ring.bbox;
        if s > f.lat_max || n < f.lat_min {
            continue;
        }
        // Every whole turn that brings the ring into the frame.
        let first = ((f.lon_min - e) / 360.0).ceil() as i32;
        let last = ((f.lon_max - w) / 360.0).floor() as i32;
        for turn in first..=last {
            let shift = f64::from(turn) * 360.0;
            let pts: Vec<(f64, f64)> = ring.points.iter().map(|p| (p.0 + shift, p.1)).collect();
            let clipped = geo::clip_polygon(&pts, f);
            if !clipped.is_empty() {
                polys.push((clipped, ring.hole));
            }
            coast.extend(coast_lines(&ring.points, shift, f));
        }
    }
    chart
        .draw_series(
            polys
                .iter()
                .filter(|p| !p.1)
                .map(|(p, _)| Polygon::new(p.clone(), LAND.filled())),
        )
        .map_err(fail)?;
    chart
        .draw_series(
            polys
                .iter()
                .filter(|p| p.1)
                .map(|(p, _)| Polygon::new(p.clone(), SEA.filled())),
        )
        .map_err(fail)?;
    // Pieces smaller than a pixel draw nothing (and a zero-length stroke upsets
    // renderers).
    coast.retain(|l| {
        let first = l.first().map(|p| chart.backend_coord(p));
        l.iter().any(|p| Some(chart.backend_coord(p)) != first)
    });
    chart
        .draw_series(
            coast
                .into_iter()
                .map(|l| PathElement::new(l, COAST.stroke_width(1))),
        )
        .map_err(fail)?;

    chart
        .configure_mesh()
        .bold_line_style(GRID.mix(0.3).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|x| geo::lon_label(*x))
        .y_label_formatter(&|y| geo::lat_label(*y))
        .label_style((FONT, 13).into_font().color(&INK))
        .axis_style(GRID.mix(0.6))
        .draw()
        .map_err(fail)?;

    // Tracks: segments coloured by the category they start from, then the dots.
    for (t, l) in tracks.iter().zip(lons) {
        let pts: Vec<(f64, f64, RGBColor)> = t
            .points
            .iter()
            .zip(l)
            .map(|(p, x)| (*x, p.lat, code_rgb(&p.cat)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        // A segment within one pixel draws nothing (and a zero-length stroke upsets
        // renderers); its dot is drawn anyway.
        let segments: Vec<&[(f64, f64, RGBColor)]> = pts
            .windows(2)
            .filter(|w| {
                chart.backend_coord(&(w[0].0, w[0].1)) != chart.backend_coord(&(w[1].0, w[1].1))
            })
            .collect();
        chart
            .draw_series(segments.into_iter().map(|w| {
                PathElement::new(
                    vec![(w[0].0, w[0].1), (w[1].0, w[1].1)],
                    w[0].2.stroke_width(2),
                )
            }))
            .map_err(fail)?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 2, p.2.filled())))
            .map_err(fail)?;
    }
    if tracks.len() > 1 && tracks.len() <= MAX_NAME_LABELS {
        // Names at first positions, skipping one that would overlap a name already
        // placed (about 7 pixels per letter, 14 per line).
        let style = (FONT, 12).into_font().color(&INK);
        let mut placed: Vec<(i32, i32, i32)> = Vec::new();
        let mut labels = Vec::new();
        for (t, l) in tracks.iter().zip(lons) {
            let (Some(x), Some(p)) = (l.first(), t.points.first()) else {
                continue;
            };
            let name = clean(super::display_name(&t.name));
            let (px, py) = chart.backend_coord(&(*x, p.lat));
            let w = 7 * name.chars().count() as i32;
            let clash = placed
                .iter()
                .any(|&(qx, qy, qw)| px < qx + qw && qx < px + w && (py - qy).abs() < 14);
            if !clash {
                placed.push((px, py, w));
                labels.push(Text::new(name, (*x, p.lat), style.clone()));
            }
        }
        chart.draw_series(labels).map_err(fail)?;
    }

    // Legend: every code the tracks have, each with its own entry and colour (the
    // colours are fixed per code, see `Category`, so maps compare).
    let codes = legend_codes(
        tracks
            .iter()
            .flat_map(|t| t.points.iter().map(|p| p.cat.as_str())),
    );
    for code in &codes {
        let colour = code_rgb(code);
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(fail)?
            .label(code_label(code))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
            });
    }
    // In the corner that hides the fewest observations (about 7 pixels a character
    // and 18 a line).
    let (lw, lh) = (
        40 + 7 * codes
            .iter()
            .map(|c| code_label(c).chars().count())
            .max()
            .unwrap_or(0) as i32,
        12 + 18 * codes.len() as i32,
    );
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let hidden = |left: bool, top: bool| {
        let x0 = if left { xs.start } else { xs.end - lw };
        let y0 = if top { ys.start } else { ys.end - lh };
        tracks
            .iter()
            .zip(lons)
            .flat_map(|(t, l)| l.iter().zip(&t.points))
            .map(|(x, p)| chart.backend_coord(&(*x, p.lat)))
            .filter(|&(px, py)| (x0..x0 + lw).contains(&px) && (y0..y0 + lh).contains(&py))
            .count()
    };
    let corner = [
        (SeriesLabelPosition::UpperRight, false, true),
        (SeriesLabelPosition::UpperLeft, true, true),
        (SeriesLabelPosition::LowerRight, false, false),
        (SeriesLabelPosition::LowerLeft, true, false),
    ]
    .into_iter()
    .min_by_key(|(_, left, top)| hidden(*left, *top))
    .map_or(SeriesLabelPosition::UpperRight, |c| c.0);
    legend(&mut chart, corner)?;
    Ok(())
}

/// The legend of the series drawn so far, in one style for every picture.
fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID.mix(0.6))
        .label_font((FONT, 13).into_font().color(&INK))
        .draw()
        .map_err(fail)
}

/// A ring's edges within the frame, as polylines. Edges that touch a pole (where the
/// converter closed Antarctica's ring) are not coast.
fn coast_lines(ring: &[(f64, f64)], shift: f64, f: &Frame) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        let cut = a.1.abs() >= 89.9 || b.1.abs() >= 89.9;
        let clipped = if cut {
            None
        } else {
            geo::clip_segment((a.0 + shift, a.1), (b.0 + shift, b.1), f)
        };
        match clipped {
            Some((p, q)) => {
                if cur.last() != Some(&p) {
                    if cur.len() > 1 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                    cur.push(p);
                }
                cur.push(q);
            }
            None => {
                if cur.len() > 1 {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() > 1 {
        out.push(cur);
    }
    out
}

/// A storm's wind (knots, left axis, a line) and central pressure (millibars, right
/// axis, a second line with gaps where pressure was not measured) over UTC time, on
/// horizontal bands for the Saffir-Simpson thresholds (34, 64, 83, 96, 113, 137 kt),
/// labelled; titled with the storm's name and year, with a legend.
/// [`Error::InvalidInput`] for a track without observations.
pub fn render_intensity_chart(track: &Track) -> Result<String> {
    let pts = &track.points;
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return Err(Error::InvalidInput(
            "track: expected at least one observation".into(),
        ));
    };
    let (mut t0, mut t1) = (first.time, last.time);
    if t1 - t0 < Duration::hours(12) {
        t0 -= Duration::hours(6);
        t1 += Duration::hours(6);
    }
    let peak = pts
        .iter()
        .map(|p| f64::from(p.wind_kts))
        .fold(0.0, f64::max);
    let wind_max = (peak * 1.15).max(peak + 15.0).max(80.0);
    let pressures: Vec<f64> = pts
        .iter()
        .filter_map(|p| p.pressure)
        .map(f64::from)
        .collect();
    let (p_lo, p_hi) = if pressures.is_empty() {
        (900.0, 1020.0)
    } else {
        let lo = pressures.iter().copied().fold(f64::MAX, f64::min);
        let hi = pressures.iter().copied().fold(f64::MIN, f64::max);
        (lo - 10.0, (hi + 10.0).max(lo + 30.0))
    };
    let title = format!("{}: wind and pressure", clean(&track.title()));
    svg_document(WIDTH, CHART_HEIGHT, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 26).into_font().color(&INK))
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .right_y_label_area_size(60)
            .build_cartesian_2d(RangedDateTime::from(t0..t1), 0.0..wind_max)
            .map_err(fail)?
            .set_secondary_coord(RangedDateTime::from(t0..t1), p_lo..p_hi);
        // Bands first, so lines and grid are on top: the Saffir-Simpson scale, each
        // band from its category's lowest wind, in its category's colour.
        let bands: Vec<(f64, Category)> = Category::SCALE
            .iter()
            .map(|c| (f64::from(c.wind_min_kts().unwrap_or(0)), *c))
            .collect();
        for (i, (lo, c)) in bands.iter().enumerate() {
            let hi = bands.get(i + 1).map_or(wind_max, |b| b.0).min(wind_max);
            if *lo >= wind_max {
                break;
            }
            let colour = rgb(*c).mix(0.16);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(t0, *lo), (t1, hi)],
                    colour.filled(),
                )))
                .map_err(fail)?;
            let code = c.code();
            let label = if *lo > 0.0 {
                format!("{code} ({lo:.0} kt)")
            } else {
                format!("{code} (< 34 kt)")
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    label,
                    (t0, *lo),
                    (FONT, 12)
                        .into_font()
                        .color(&rgb(*c))
                        .pos(Pos::new(HPos::Left, VPos::Bottom)),
                )))
                .map_err(fail)?;
        }
        let span = t1 - t0;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.mix(0.15))
            .x_labels(10)
            .x_label_formatter(&move |t: &DateTime<Utc>| {
                if span > Duration::days(4) {
                    t.format("%b %d").to_string()
                } else {
                    t.format("%b %d %H:%M").to_string()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("Time (UTC)")
            .y_desc("Wind (kt)")
            .label_style((FONT, 13).into_font().color(&INK))
            .axis_desc_style((FONT, 14).into_font().color(&INK))
            .draw()
            .map_err(fail)?;
        chart
            .configure_secondary_axes()
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("Pressure (mb)")
            .label_style((FONT, 13).into_font().color(&INK))
            .axis_desc_style((FONT, 14).into_font().color(&INK))
            .draw()
            .map_err(fail)?;

        let wind = RGBColor(200, 30, 30);
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.time, f64::from(p.wind_kts))),
                wind.stroke_width(2),
            ))
            .map_err(fail)?
            .label("Wind (kt)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], wind.stroke_width(2))
            });
        chart
            .draw_series(
                pts.iter()
                    .map(|p| Circle::new((p.time, f64::from(p.wind_kts)), 2, wind.filled())),
            )
            .map_err(fail)?;
        // Pressure: one line per run of measured values.
        let pressure = RGBColor(30, 70, 170);
        let mut runs: Vec<Vec<(DateTime<Utc>, f64)>> = vec![Vec::new()];
        for p in pts {
            match p.pressure {
                Some(mb) => runs
                    .last_mut()
                    .into_iter()
                    .for_each(|r| r.push((p.time, f64::from(mb)))),
                None => runs.push(Vec::new()),
            }
        }
        runs.retain(|r| !r.is_empty());
        for run in &runs {
            chart
                .draw_secondary_series(LineSeries::new(
                    run.iter().copied(),
                    pressure.stroke_width(2),
                ))
                .map_err(fail)?;
        }
        chart
            .draw_secondary_series(
                runs.iter()
                    .flatten()
                    .map(|p| Circle::new(*p, 2, pressure.filled())),
            )
            .map_err(fail)?
            .label("Pressure (mb)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], pressure.stroke_width(2))
            });
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// Where a peak category sits in a per-year bar, bottom first: the codes off the
/// Saffir-Simpson scale (non-tropical, then subtropical), then TD, TS, H1..H5, and the
/// super typhoon on top.
fn stack_order(code: &str) -> (usize, String) {
    let rank = match Category::from_code(code) {
        Some(Category::SuperTyphoon) => 100,
        Some(c) => match c.scale_rank() {
            Some(r) => 50 + usize::from(r),
            None => 40 - code_order(code).0,
        },
        None => 0,
    };
    (rank, code.to_string())
}

/// Storms per year, one panel per basin (in the order of `rows`' first appearance),
/// each year's bar stacked by the category every storm peaked at, one colour per code
/// (the codes off the Saffir-Simpson scale at the bottom, then TD up to H5, and ST on
/// top); axis labels, a legend of every code drawn (in a column at the right) and
/// `title`. Years between the first and the last with no storms have no bar.
/// [`Error::InvalidInput`] without rows.
pub fn render_per_year_chart(title: &str, rows: &[YearCounts]) -> Result<String> {
    if rows.is_empty() {
        return Err(Error::InvalidInput(
            "per-year chart: expected at least one row".into(),
        ));
    }
    let mut basins: Vec<&str> = Vec::new();
    for r in rows {
        if !basins.contains(&r.basin.as_str()) {
            basins.push(&r.basin);
        }
    }
    let mut codes = legend_codes(
        rows.iter()
            .flat_map(|r| r.by_peak.iter().map(|p| p.0.as_str())),
    );
    codes.sort_by_key(|c| std::cmp::Reverse(stack_order(c)));
    let lo = rows.iter().map(|r| r.year).min().unwrap_or(0);
    let hi = rows.iter().map(|r| r.year).max().unwrap_or(0);
    let height = 60 + PANEL_HEIGHT * basins.len() as u32;
    let title = clean(title);
    svg_document(WIDTH, height, |root| {
        let root = root
            .titled(&title, (FONT, 26).into_font().color(&INK))
            .map_err(fail)?;
        let (plots, key) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        draw_key(&key, &codes)?;
        let panels = plots.split_evenly((basins.len(), 1));
        for (basin, area) in basins.iter().zip(&panels) {
            let mine: Vec<&YearCounts> = rows.iter().filter(|r| r.basin == *basin).collect();
            let top = mine.iter().map(|r| r.storms).max().unwrap_or(1).max(1) as f64;
            let step = [1, 2, 5, 10, 20, 25, 50, 100]
                .into_iter()
                .find(|s| (hi - lo) / s <= 16)
                .unwrap_or(200);
            let mut chart = ChartBuilder::on(area)
                .caption(clean(basin), (FONT, 18).into_font().color(&INK))
                .margin(MARGIN)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(
                    Ticked {
                        ticks: geo::ticks(f64::from(lo), f64::from(hi), f64::from(step)),
                        ..Ticked::new(f64::from(lo) - 0.6, f64::from(hi) + 0.6, 1.0)
                    },
                    0.0..top * 1.12,
                )
                .map_err(fail)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GRID.mix(0.15))
                .x_label_formatter(&|y| format!("{y:.0}"))
                .y_label_formatter(&|n| format!("{n:.0}"))
                .x_desc("Year")
                .y_desc("Storms")
                .label_style((FONT, 13).into_font().color(&INK))
                .axis_desc_style((FONT, 14).into_font().color(&INK))
                .draw()
                .map_err(fail)?;
            let half = if hi > lo { 0.4 } else { 0.2 };
            let bars = mine.iter().flat_map(|r| {
                let mut peaks: Vec<&(String, i64)> = r.by_peak.iter().collect();
                peaks.sort_by_key(|p| stack_order(&p.0));
                let x = f64::from(r.year);
                let mut below = 0;
                peaks
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(move |(code, n)| {
                        let bar = Rectangle::new(
                            [(x - half, below as f64), (x + half, (below + n) as f64)],
                            code_rgb(code).filled(),
                        );
                        below += n;
                        bar
                    })
            });
            chart.draw_series(bars).map_err(fail)?;
        }
        Ok(())
    })
}

/// Width of the per-year chart's legend column, pixels.
const LEGEND_WIDTH: u32 = 230;

/// A legend in its own column: a swatch and the label of every code, strongest first.
fn draw_key(area: &Area<'_>, codes: &[String]) -> Result<()> {
    let font = (FONT, 13).into_font().color(&INK);
    area.draw(&Text::new(
        "Peak category",
        (8, 40),
        (FONT, 14).into_font().color(&INK),
    ))
    .map_err(fail)?;
    for (i, code) in codes.iter().enumerate() {
        let y = 64 + 20 * i as i32;
        area.draw(&Rectangle::new(
            [(8, y), (22, y + 12)],
            code_rgb(code).filled(),
        ))
        .map_err(fail)?;
        area.draw(&Text::new(code_label(code), (30, y), font.clone()))
            .map_err(fail)?;
    }
    Ok(())
}
