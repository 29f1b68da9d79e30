//! The question `delete` asks at a terminal before deleting.
//!
//! A terminal here is stdin *and* stderr both being one: the question goes
//! to stderr and the answer comes from stdin. Anywhere else (a script, a
//! pipe, CI) there is nobody to ask, so `delete` without `--yes` refuses
//! with exit 2 instead of guessing: whether it can be asked is
//! [`crate::terminal::interactive`].

use std::io::{self, BufRead, Write};

use coxedge_images::{Image, ImageId};
use time::format_description::well_known::Rfc3339;

use crate::error::CliError;
use crate::format;

/// The refusal when `delete` cannot ask and `--yes` was not given.
pub fn refusal(id: &ImageId) -> CliError {
    CliError::usage(format!(
        "not deleting {}: stdin or stderr is not a terminal, so the deletion cannot be \
         confirmed; pass --yes to delete without asking",
        format::clean(id.as_str())
    ))
}

/// The image as shown before the question: id, status and creation time.
pub fn describe(image: &Image) -> String {
    let created = image
        .created_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| image.created_at.to_string());
    format!(
        "coxedge-images: about to delete image {} (status {}, created {created})",
        format::clean(image.id.as_str()),
        format::clean(image.status.as_str())
    )
}

/// Shows `image` on `output`, asks whether to delete it and reads one line
/// of `input`: `y` or `yes` (any case) is yes; anything else, an empty line
/// or the end of input is no.
pub fn ask(image: &Image, input: &mut impl BufRead, output: &mut impl Write) -> io::Result<bool> {
    writeln!(output, "{}", describe(image))?;
    write!(output, "Delete it? [y/N] ")?;
    output.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    let answer = answer.trim();
    Ok(answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"))
}

/// [`ask`] on the process's stdin and stderr; a no is an error (exit 2,
/// as `gh` exits on a cancelled prompt), so nothing after it runs.
pub fn confirm(image: &Image) -> Result<(), CliError> {
    let mut stderr = io::stderr().lock();
    match ask(image, &mut io::stdin().lock(), &mut stderr) {
        Ok(true) => Ok(()),
        Ok(false) => Err(CliError::usage(format!(
            "not deleting {}: not confirmed",
            format::clean(image.id.as_str())
        ))),
        Err(e) => Err(CliError::usage(format!(
            "not deleting {}: cannot read the answer: {e}",
            format::clean(image.id.as_str())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coxedge_images::ImageStatus;
    use time::macros::datetime;

    fn image() -> Image {
        Image::new(
            ImageId::new("stack", "ubuntu", "v1").unwrap(),
            "cox-edge",
            datetime!(2020-11-10 20:34:11 UTC),
            ImageStatus::Other("BAD\x1b[2J".into()),
        )
    }

    #[test]
    fn only_y_or_yes_confirms() {
        for (answer, yes) in [
            ("y\n", true),
            ("YES\n", true),
            (" Yes \r\n", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("yess\n", false),
            ("sure\n", false),
        ] {
            let mut shown = Vec::new();
            let got = ask(&image(), &mut answer.as_bytes(), &mut shown).unwrap();
            assert_eq!(got, yes, "{answer:?}");
            let shown = String::from_utf8(shown).unwrap();
            assert!(
                shown.contains("stack/ubuntu/v1")
                    && shown.contains("2020-11-10T20:34:11Z")
                    && shown.ends_with("[y/N] "),
                "{shown}"
            );
            assert!(!shown.contains('\x1b'), "{shown:?}");
        }
    }
}
