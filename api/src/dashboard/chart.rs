//! The page's charts, drawn on the server as inline SVG by `plotters`' SVG backend. Text is written as SVG `<text>`
//! and laid out by the browser with its own fonts: no font is read on the server. A figure the answer left null
//! (hidden or not reported) has no bar.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One series of bars: a colour and a value (or none) per category.
pub struct Series {
    pub color: RGBColor,
    pub values: Vec<Option<f64>>,
}

/// The colour of the month's figures.
pub const MONTH: RGBColor = RGBColor(31, 96, 160);
/// The colour of the same month a year before.
pub const YEAR_AGO: RGBColor = RGBColor(176, 180, 186);

/// Width of a chart in SVG units; it scales with the page (the SVG has a `viewBox`).
const WIDTH: u32 = 760;
/// Height of one bar, and of the space around a category's bars.
const BAR: u32 = 13;
const SPACE: u32 = 12;

/// Horizontal bars, one line per category (top to bottom), one bar per series, each labelled with `format` of its
/// value; `reference` draws a vertical line at that value (100 % of a target). Right to left (`rtl`), the categories
/// are on the right and the bars grow leftwards. `None` when there is no bar to draw.
pub fn bars(
    categories: &[String],
    series: &[Series],
    format: &dyn Fn(f64) -> String,
    reference: Option<f64>,
    rtl: bool,
) -> Option<String> {
    let highest = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(reference.unwrap_or(0.0), f64::max);
    if categories.is_empty() || !highest.is_finite() || highest <= 0.0 {
        return None;
    }
    // Room for the values written after the longest bar, and a scale of round steps.
    let step = round_step(highest * 1.15 / 5.0);
    let top = step * (highest * 1.15 / step).ceil();
    let at = |value: f64| if rtl { top - value } else { value };
    let lines = categories.len();
    let height = 34 + (SPACE + BAR * series.len() as u32) * lines as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        // The far end keeps room for its scale's label.
        let (near, far) = (6, 28);
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .margin_left(if rtl { far } else { near })
            .margin_right(if rtl { near } else { far })
            .set_label_area_size(LabelAreaPosition::Bottom, 22)
            .set_label_area_size(
                if rtl {
                    LabelAreaPosition::Right
                } else {
                    LabelAreaPosition::Left
                },
                200,
            )
            .build_cartesian_2d(0f64..top, 0f64..lines as f64)
            .ok()?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .draw()
            .ok()?;
        let grid = RGBColor(214, 218, 223);
        let small = ("sans-serif", 12).into_font().color(&BLACK);
        let mut tick = 0.0;
        while tick <= top + step / 2.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at(tick), 0.0), (at(tick), lines as f64)],
                    grid.stroke_width(1),
                )))
                .ok()?;
            let (x, y) = chart.backend_coord(&(at(tick), 0.0));
            root.draw(&Text::new(
                format(tick),
                (x, y + 6),
                small.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .ok()?;
            tick += step;
        }
        let band = 0.7 / series.len().max(1) as f64;
        let top_of = |line: usize, k: usize| (lines - line) as f64 - 0.15 - k as f64 * band;
        for (k, one) in series.iter().enumerate() {
            let rectangles = one.values.iter().enumerate().filter_map(|(i, value)| {
                let (start, end) = (at(0.0), at((*value)?));
                Some(Rectangle::new(
                    [(start.min(end), top_of(i, k) - band), (start.max(end), top_of(i, k))],
                    one.color.filled(),
                ))
            });
            chart.draw_series(rectangles).ok()?;
        }
        if let Some(reference) = reference {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at(reference), 0.0), (at(reference), lines as f64)],
                    BLACK.stroke_width(1),
                )))
                .ok()?;
        }
        let label = ("sans-serif", 14).into_font().color(&BLACK);
        // Text leans away from the bars: before them left to right, after them right to left.
        let (outside, away) = if rtl { (HPos::Left, 8) } else { (HPos::Right, -8) };
        let (beyond, further) = if rtl { (HPos::Right, -4) } else { (HPos::Left, 4) };
        for (i, category) in categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(at(0.0), (lines - i) as f64 - 0.5));
            root.draw(&Text::new(
                category.clone(),
                (x + away, y),
                label.pos(Pos::new(outside, VPos::Center)),
            ))
            .ok()?;
            for (k, one) in series.iter().enumerate() {
                if let Some(Some(value)) = one.values.get(i) {
                    let (x, y) = chart.backend_coord(&(at(*value), top_of(i, k) - band / 2.0));
                    root.draw(&Text::new(
                        format(*value),
                        (x + further, y),
                        small.pos(Pos::new(beyond, VPos::Center)),
                    ))
                    .ok()?;
                }
            }
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// A round step of a scale at least `rough`: 1, 2, 2.5 or 5 times a power of ten.
fn round_step(rough: f64) -> f64 {
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_svg_with_their_labels_and_no_bar_for_a_missing_value() {
        let categories = vec!["Rabat-Salé-Kénitra".to_owned(), "الداخلة - وادي الذهب".to_owned()];
        let svg = bars(
            &categories,
            &[Series {
                color: MONTH,
                values: vec![Some(12.5), None],
            }],
            &|v| format!("{v:.1}"),
            None,
            false,
        )
        .expect("a chart");
        assert!(svg.starts_with("<svg"), "{svg:.200}");
        assert!(svg.contains("viewBox"));
        assert!(svg.contains("Rabat-Salé-Kénitra"));
        assert!(svg.contains("الداخلة - وادي الذهب"));
        assert!(svg.contains(">\n12.5\n<") || svg.contains("12.5"));
        let filled = svg.matches("fill=\"#1F60A0\"").count();
        assert_eq!(filled, 1, "one bar for the one value: {svg}");
    }

    #[test]
    fn nothing_to_draw_is_no_chart() {
        let none = bars(
            &["a".to_owned()],
            &[Series {
                color: MONTH,
                values: vec![None],
            }],
            &|v| v.to_string(),
            None,
            false,
        );
        assert!(none.is_none());
    }

    #[test]
    fn scales_have_round_steps() {
        assert_eq!(round_step(4_300.0), 5_000.0);
        assert_eq!(round_step(0.18), 0.2);
        assert_eq!(round_step(23.0), 25.0);
        assert_eq!(round_step(100.0), 100.0);
    }

    /// The x of a bar's rectangle and of a text, as the SVG writes them.
    fn numbers_after(svg: &str, tag: &str, attribute: &str) -> Vec<f64> {
        svg.split(tag)
            .skip(1)
            .filter_map(|rest| {
                let start = rest.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
                rest[start..].split('"').next()?.parse().ok()
            })
            .collect()
    }

    #[test]
    fn right_to_left_the_categories_are_right_of_the_bars() {
        let categories = vec!["الشرق".to_owned()];
        let draw = |rtl| {
            bars(
                &categories,
                &[Series {
                    color: MONTH,
                    values: vec![Some(50.0)],
                }],
                &|v| format!("{v}"),
                None,
                rtl,
            )
            .unwrap()
        };
        for rtl in [false, true] {
            let svg = draw(rtl);
            let bar = svg
                .split("<rect")
                .find(|r| r.contains("fill=\"#1F60A0\""))
                .expect("the bar");
            let bar_x = numbers_after(&format!("<rect{bar}"), "<rect", "x")[0];
            let label = svg.split("<text").find(|t| t.contains("الشرق")).expect("the label");
            let label_x = numbers_after(&format!("<text{label}"), "<text", "x")[0];
            if rtl {
                assert!(label_x > bar_x, "{label_x} right of {bar_x}");
            } else {
                assert!(label_x < bar_x + 1.0, "{label_x} left of {bar_x}");
            }
        }
    }
}
