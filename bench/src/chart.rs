//! The report's chart: each workload's charted rows as horizontal bars, their time as a multiple
//! of native Rust on a log scale, drawn by `plotters` into an SVG with a legend.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::BenchError;
use crate::goals::goals;
use crate::measure::Results;
use crate::rows::RowKind;

/// Width of the chart, in pixels.
const WIDTH: u32 = 900;
/// Height of one bar, in pixels; each workload's band holds one per charted row.
const BAR: u32 = 13;
/// Space between two workloads' bands, in pixels.
const BAND_GAP: u32 = 14;
/// Title, axis and margins, in pixels.
const FRAME: u32 = 110;

/// Bar colours, in row order: native is grey, the others as distinct as the palette allows.
const COLORS: [RGBColor; 10] = [
    RGBColor(0x88, 0x88, 0x88),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x6b, 0xae, 0xd6),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0xff, 0x98, 0x96),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The rows the chart shows, as indices in row order: native, each registered path's
/// `transform` row, and every row a goal compares. A new path gets its bar with no edit here.
pub fn chart_rows(results: &Results) -> Vec<usize> {
    let goal_rows: Vec<&str> = goals(results).into_iter().flat_map(|g| g.rows).collect();
    results
        .rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            matches!(row.kind, RowKind::Native | RowKind::Transform)
                || goal_rows.contains(&row.name.as_str())
        })
        .map(|(index, _)| index)
        .collect()
}

fn chart_error<E: std::error::Error + Send + Sync + 'static>(error: E) -> BenchError {
    BenchError::Chart(Box::new(error))
}

/// The x axis's ticks: 0.5, 1, 2, 5, 10, 20, 50, ... up to `max`.
fn ticks(max: f64) -> Vec<f64> {
    let mut ticks = vec![0.5];
    let mut decade = 1.0;
    while decade <= max {
        ticks.extend(
            [decade, 2.0 * decade, 5.0 * decade]
                .into_iter()
                .filter(|t| *t <= max),
        );
        decade *= 10.0;
    }
    ticks
}

/// `1×`, `20×`, `0.5×`.
fn times(ratio: f64) -> String {
    if ratio < 1.0 {
        format!("{ratio}×")
    } else {
        format!("{ratio:.0}×")
    }
}

/// A horizontal bar chart of the charted rows' ratios to native, one band per workload, on a
/// log scale, as an SVG document.
///
/// # Errors
///
/// [`BenchError::Chart`] if plotters fails to draw.
pub fn svg(results: &Results) -> Result<String, BenchError> {
    let rows = chart_rows(results);
    let workloads = &results.workloads;
    let max_ratio = workloads
        .iter()
        .flat_map(|w| rows.iter().filter_map(|&row| results.ratio(w.id, row)))
        .fold(10.0_f64, f64::max);
    // Whole decades, and one more for the figures beside the longest bars and the legend.
    let x_max = 10f64.powf(max_ratio.log10().ceil() + 1.0);
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let band = BAR
        .saturating_mul(count(rows.len()))
        .saturating_add(BAND_GAP);
    let height = FRAME.saturating_add(band.saturating_mul(count(workloads.len())));
    let bands = workloads.len() as f64;
    // The y axis runs upwards, one unit per band, centred on whole numbers (where the labels
    // go): the first workload's band is the top one, centred on `bands - 1`.
    let center = |index: usize| bands - 1.0 - index as f64;
    let band_top = |index: usize| center(index) + 0.5;
    let bar_height = f64::from(BAR) / f64::from(band);
    let gap = f64::from(BAND_GAP) / f64::from(band) / 2.0;

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Time per transform as a multiple of native Rust (log scale; lower is better)",
                ("sans-serif", 20),
            )
            .margin(12)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(130)
            .build_cartesian_2d(
                (0.5..x_max).log_scale().with_key_points(ticks(x_max)),
                -0.5..bands - 0.5,
            )
            .map_err(chart_error)?;
        // Labels only at the centres of the bands.
        let workload_label = |y: &f64| {
            workloads
                .iter()
                .enumerate()
                .find(|(index, _)| (center(*index) - y).abs() < 1e-6)
                .map_or(String::new(), |(_, w)| format!("{}: {}", w.id, w.label))
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(workloads.len())
            .x_label_formatter(&|x| times(*x))
            .y_label_formatter(&workload_label)
            .x_desc("× native Rust (log scale)")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .map_err(chart_error)?;

        for (slot, &row) in rows.iter().enumerate() {
            let color = COLORS[slot % COLORS.len()];
            let bars: Vec<(f64, f64, f64)> = workloads
                .iter()
                .enumerate()
                .filter_map(|(index, w)| {
                    let ratio = results.ratio(w.id, row)?;
                    let top = band_top(index) - gap - slot as f64 * bar_height;
                    Some((ratio, top, top - bar_height * 0.85))
                })
                .collect();
            chart
                .draw_series(bars.iter().map(|&(ratio, top, bottom)| {
                    Rectangle::new([(0.5, top), (ratio.max(0.5), bottom)], color.filled())
                }))
                .map_err(chart_error)?
                .label(results.rows[row].name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
            let figure = ("sans-serif", 13)
                .into_text_style(&root)
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart
                .draw_series(bars.iter().map(|&(ratio, top, bottom)| {
                    Text::new(
                        format!(" {ratio:.2}×"),
                        (ratio.max(0.5), (top + bottom) / 2.0),
                        figure.clone(),
                    )
                }))
                .map_err(chart_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(out)
}
