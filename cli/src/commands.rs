//! The commands, each written once against the one [`CliClient`].
//!
//! Results go to stdout (a table, a block or JSON); progress and retries go
//! to stderr; failures come back as [`CliError`] for the caller to report.

use std::time::Duration;

use coxedge_images::TaskHandle;

use coxedge_images::{
    CreateImage, ErrorKind, ImageFilter, ImageId, ImageReference, ImageStatus, ListOptions,
    PollPolicy, Task, TaskId,
};

use crate::args::{Command, CreateArgs, ListArgs, WaitArgs};
use crate::client::CliClient;
use crate::confirm;
use crate::error::CliError;
use crate::format;
use crate::progress::Progress;
use crate::terminal::{self, print};

/// How long `--wait` waits when `--wait-timeout` is not given.
const DEFAULT_WAIT: Duration = Duration::from_secs(300);

/// Runs `command`; `json` selects JSON output.
pub fn execute(
    client: &CliClient,
    progress: &Progress,
    command: &Command,
    json: bool,
) -> Result<(), CliError> {
    match command {
        Command::List(args) => list(client, progress, args, json),
        Command::Get { id } => {
            let image = client.get_image(id)?;
            print(&if json {
                format::json(&image)
            } else {
                format::image_block(&image)
            })
        }
        Command::Resolve { reference } => resolve(client, progress, reference, json),
        Command::Create(args) => create(client, progress, args, json),
        Command::Delete { id, yes, wait } => delete(client, progress, id, *yes, *wait, json),
        Command::Task { id, wait } => task(client, progress, id, *wait, json),
        // Served before any client is made.
        Command::Simulator(_)
        | Command::Config(_)
        | Command::Completions { .. }
        | Command::Man { .. } => Err(CliError::usage("this command does not run against an API")),
    }
}

/// Refuses, before anything is started or sent, a command that would have
/// to ask a question where nobody can answer: `delete` without `--yes`
/// when stdin or stderr is not a terminal.
pub fn preflight(command: &Command) -> Result<(), CliError> {
    match command {
        Command::Delete { id, yes: false, .. } if !terminal::interactive() => {
            Err(confirm::refusal(id))
        }
        _ => Ok(()),
    }
}

/// `list`: system-only and image type are asked of the server; family, tag
/// and status are filtered here.
fn list(
    client: &CliClient,
    progress: &Progress,
    args: &ListArgs,
    json: bool,
) -> Result<(), CliError> {
    let mut options = ListOptions::new();
    if args.system_only {
        options = options.system_only();
    }
    if let Some(image_type) = args.image_type {
        options = options.image_type(image_type.into());
    }
    if let Some(size) = args.page_size {
        options = options.page(1, size);
    }
    let mut filter = ImageFilter::new();
    if let Some(family) = &args.family {
        filter = filter.family(family);
    }
    if let Some(tag) = &args.tag {
        filter = filter.tag(tag);
    }
    if let Some(status) = &args.status {
        filter = filter.status(ImageStatus::from(status.as_str()));
    }
    let list = client.list_images(&options);
    // The pages' progress leaves the screen before the table is printed.
    progress.finish();
    let list = list?;
    let images = filter.apply(&list.images);
    print(&if json {
        format::json(&images)
    } else {
        format::image_table(&images)
    })
}

/// `resolve`: the image a reference names, or exit 1 saying why none does.
fn resolve(
    client: &CliClient,
    progress: &Progress,
    reference: &ImageReference,
    json: bool,
) -> Result<(), CliError> {
    let found = client.resolve(reference);
    progress.finish();
    let Some(image) = found? else {
        let why = match reference.tag() {
            Some(tag) => format!(
                "there is no image with slug {:?}, family {:?} and tag {tag:?}",
                reference.slug(),
                reference.family()
            ),
            None => format!(
                "there is no READY image with slug {:?} and family {:?}",
                reference.slug(),
                reference.family()
            ),
        };
        return Err(CliError::failed(format!(
            "{} does not resolve: {}",
            format::clean(reference.as_str()),
            format::clean(&why)
        )));
    };
    print(&if json {
        format::json(&image)
    } else {
        format::image_block(&image)
    })
}

fn create(
    client: &CliClient,
    progress: &Progress,
    args: &CreateArgs,
    json: bool,
) -> Result<(), CliError> {
    let mut create = CreateImage::new(
        &args.family,
        &args.tag,
        &args.workload_id,
        &args.instance_name,
    );
    if let Some(description) = &args.description {
        create = create.with_description(description);
    }
    let started = client.create_image(&create)?;
    follow(started, progress, args.wait, json)
}

/// `delete`: without `--yes`, the image is shown and the deletion
/// confirmed first (a terminal is needed for that: see [`preflight`]).
fn delete(
    client: &CliClient,
    progress: &Progress,
    id: &ImageId,
    yes: bool,
    wait: WaitArgs,
    json: bool,
) -> Result<(), CliError> {
    if !yes {
        confirm::confirm(&client.get_image(id)?)?;
    }
    let started = client.delete_image(id)?;
    follow(started, progress, wait, json)
}

fn task(
    client: &CliClient,
    progress: &Progress,
    id: &TaskId,
    wait: WaitArgs,
    json: bool,
) -> Result<(), CliError> {
    // Asked once first even with --wait: an unknown id fails at once, and
    // the first progress line shows the status the task already has.
    let current = client.get_task(id)?;
    follow(client.task(current), progress, wait, json)
}

/// Prints a task, or with `--wait` polls it to its end first, showing its
/// progress (see [`Progress`]), then the final task on
/// stdout, exit 1 when it failed or the wait timed out.
fn follow(
    handle: TaskHandle<'_, CliClient>,
    progress: &Progress,
    wait: WaitArgs,
    json: bool,
) -> Result<(), CliError> {
    if !wait.wait {
        return print_task(handle.task(), json);
    }
    progress.follow(handle.task());
    let policy = PollPolicy::default().with_timeout(wait.wait_timeout.unwrap_or(DEFAULT_WAIT));
    let waited = handle.with_poll_policy(policy).wait();
    // The redrawn line leaves the screen (the final status stays as a
    // plain line) before the task is printed.
    progress.finish();
    match waited {
        Ok(task) => print_task(&task, json),
        Err(error) => {
            if error.kind() == ErrorKind::TaskFailed {
                if let Some(last) = progress.last() {
                    print_task(&last, json)?;
                }
            }
            Err(error.into())
        }
    }
}

fn print_task(task: &Task, json: bool) -> Result<(), CliError> {
    print(&if json {
        format::json(task)
    } else {
        format::task_block(task)
    })
}
