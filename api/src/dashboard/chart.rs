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
/// value; `reference` draws a vertical line at that value (100 % of a target). `None` when there is no bar to draw.
pub fn bars(
    categories: &[String],
    series: &[Series],
    format: &dyn Fn(f64) -> String,
    reference: Option<f64>,
) -> Option<String> {
    let highest = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(reference.unwrap_or(0.0), f64::max);
    if categories.is_empty() || !highest.is_finite() || highest <= 0.0 {
        return None;
    }
    let lines = categories.len();
    let height = 34 + (SPACE + BAR * series.len() as u32) * lines as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(200)
            .build_cartesian_2d(0f64..highest * 1.18, 0f64..lines as f64)
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(5)
            .x_label_formatter(&|value| format(*value))
            .label_style(("sans-serif", 13))
            .light_line_style(WHITE)
            .draw()
            .ok()?;
        let band = 0.7 / series.len().max(1) as f64;
        for (k, one) in series.iter().enumerate() {
            let rectangles = one.values.iter().enumerate().filter_map(|(i, value)| {
                let top = (lines - i) as f64 - 0.15 - k as f64 * band;
                value.map(|value| Rectangle::new([(0.0, top - band), (value, top)], one.color.filled()))
            });
            chart.draw_series(rectangles).ok()?;
        }
        if let Some(reference) = reference {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(reference, 0.0), (reference, lines as f64)],
                    BLACK.stroke_width(1),
                )))
                .ok()?;
        }
        let label = ("sans-serif", 14).into_font().color(&BLACK);
        let small = ("sans-serif", 12).into_font().color(&BLACK);
        for (i, category) in categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, (lines - i) as f64 - 0.5));
            root.draw(&Text::new(
                category.clone(),
                (x - 8, y),
                label.pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .ok()?;
            for (k, one) in series.iter().enumerate() {
                if let Some(Some(value)) = one.values.get(i) {
                    let middle = (lines - i) as f64 - 0.15 - (k as f64 + 0.5) * band;
                    let (x, y) = chart.backend_coord(&(*value, middle));
                    root.draw(&Text::new(
                        format(*value),
                        (x + 4, y),
                        small.pos(Pos::new(HPos::Left, VPos::Center)),
                    ))
                    .ok()?;
                }
            }
        }
        root.present().ok()?;
    }
    Some(svg)
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
        );
        assert!(none.is_none());
    }
}
