//! What the command shows, as text: aligned tables, readable blocks, JSON,
//! and the progress line's words.
//!
//! Pure formatting: everything is rendered to a `String` (so it is testable
//! and written in one go) and nothing here touches the terminal; writing is
//! [`crate::terminal`]'s. Text from the server is shown with control
//! characters replaced, so a hostile description cannot move the cursor or
//! rewrite the terminal; JSON output is left to serde_json, which escapes
//! them.

use std::time::Duration;

use coxedge_images::{Image, Task};
use time::UtcOffset;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// The columns of an image table.
const HEADERS: [&str; 6] = ["ID", "FAMILY", "TAG", "STATUS", "CREATED", "DESCRIPTION"];

/// An aligned table of images, one per line, with a header line.
pub fn image_table(images: &[&Image]) -> String {
    let rows: Vec<[String; 6]> = images
        .iter()
        .map(|image| {
            [
                clean(image.id.as_str()),
                clean(image.family()),
                clean(image.tag()),
                clean(image.status.as_str()),
                short_time(image),
                clean(image.description.as_deref().unwrap_or("-")),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = HEADERS.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One image as labelled lines.
pub fn image_block(image: &Image) -> String {
    let created = image
        .created_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| image.created_at.to_string());
    let fields = [
        ("ID", clean(image.id.as_str())),
        ("Stack ID", clean(image.stack_id())),
        ("Slug", clean(&image.slug)),
        ("Family", clean(image.family())),
        ("Tag", clean(image.tag())),
        ("Status", clean(image.status.as_str())),
        ("Created", created),
        ("Reference", clean(&image.reference)),
        (
            "Description",
            clean(image.description.as_deref().unwrap_or("-")),
        ),
    ];
    labelled(&fields)
}

/// A task's id, status and (when there is one) result, as labelled lines.
pub fn task_block(task: &Task) -> String {
    let mut fields = vec![
        ("Task", clean(task.id.as_str())),
        ("Status", clean(task.status.as_str())),
    ];
    if let Some(result) = task.result.as_ref().filter(|r| !r.is_null()) {
        fields.push(("Result", clean(&result.to_string())));
    }
    labelled(&fields)
}

/// `value` as pretty JSON and a newline.
pub fn json(value: &impl serde::Serialize) -> String {
    // Images and tasks serialize to plain JSON values; this cannot fail.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    text.push('\n');
    text
}

/// A progress line for stderr: the task's status and the time waited.
pub fn progress_line(task: &Task, elapsed: Duration) -> String {
    format!(
        "coxedge-images: task {} is {} ({:.1} s)",
        clean(task.id.as_str()),
        clean(task.status.as_str()),
        elapsed.as_secs_f64()
    )
}

fn labelled(fields: &[(&str, String)]) -> String {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    fields
        .iter()
        .map(|(label, value)| format!("{:<width$} {value}\n", format!("{label}:")))
        .collect()
}

/// The creation time in UTC, to the second, e.g. `2020-11-10 20:34:11Z`.
fn short_time(image: &Image) -> String {
    image
        .created_at
        .to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_else(|_| image.created_at.to_string())
}

/// `text` with every control character (newlines and escapes included)
/// shown as `?`, so server data cannot drive the terminal.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coxedge_images::{ImageId, ImageStatus};
    use time::macros::datetime;

    fn image(family: &str, description: Option<&str>) -> Image {
        let id = ImageId::new("stack", family, "v1").unwrap();
        let image = Image::new(
            id,
            "cox-edge",
            datetime!(2020-11-10 20:34:11.5 +01:00),
            ImageStatus::Ready,
        );
        match description {
            Some(d) => image.with_description(d),
            None => image,
        }
    }

    #[test]
    fn tables_are_aligned_and_clean() {
        let a = image("ubuntu", Some("Image using ubuntu"));
        let b = image("centos7-long", Some("evil\x1b[2Jtext\nnext"));
        let c = image("x", None);
        let table = image_table(&[&a, &b, &c]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("ID"));
        let column = |line: &str, name: &str| line.find(name).unwrap();
        let family_at = column(lines[0], "FAMILY");
        assert_eq!(column(lines[1], "ubuntu "), family_at);
        assert_eq!(column(lines[2], "centos7-long "), family_at);
        assert!(lines[1].contains("2020-11-10 19:34:11Z"), "{}", lines[1]);
        assert!(lines[2].ends_with("evil?[2Jtext?next"), "{}", lines[2]);
        assert!(lines[3].ends_with(" -"), "{}", lines[3]);
    }

    #[test]
    fn stderr_text_is_cleaned_of_escapes_and_newlines() {
        assert_eq!(
            clean("bad \x1b[31mred\x1b[0m\r\nfake line\x07\u{9b}2J"),
            "bad ?[31mred?[0m??fake line??2J"
        );
    }

    #[test]
    fn an_empty_table_is_its_header() {
        assert_eq!(
            image_table(&[]),
            "ID  FAMILY  TAG  STATUS  CREATED  DESCRIPTION\n"
        );
    }

    #[test]
    fn blocks_label_every_field() {
        let block = image_block(&image("ubuntu", Some("d")));
        for label in [
            "ID:",
            "Stack ID:",
            "Slug:",
            "Family:",
            "Tag:",
            "Status:",
            "Created:",
            "Reference:",
            "Description:",
        ] {
            assert!(block.contains(label), "{block}");
        }
        assert!(block.contains("cox-edge/ubuntu:v1"), "{block}");
    }
}
