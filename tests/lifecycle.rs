//! Create and delete custom images and wait for their tasks, through both
//! bundled transports against the simulator.
#![cfg(all(feature = "ureq", feature = "hyper"))]

mod support;

use std::time::Duration;

use coxedge_images_simulator::{Fault, FaultAction, Simulator, TaskOutcome, TaskShape};

/// The stack id the simulator gives the custom images it creates.
const CUSTOM_STACK_ID: &str = "c0570000-5157-4e00-8000-00000000c0de";
use coxedge_images::{AsyncClient, Client};
use coxedge_images::{
    CreateImage, Error, ErrorKind, ImageId, ImageStatus, PollPolicy, Task, TaskStatus,
};
use http::StatusCode;
use support::{assert_no_secret, config, multi_thread_runtime, policy, simulator_builder};

fn fast_polls() -> PollPolicy {
    PollPolicy::default()
        .with_initial_interval(Duration::from_millis(20))
        .with_max_interval(Duration::from_millis(50))
        .with_timeout(Duration::from_secs(10))
}

fn create() -> CreateImage {
    CreateImage::new("debian", "v1", "workload-1", "inst-0").with_description("mine")
}

fn new_id() -> ImageId {
    ImageId::new(CUSTOM_STACK_ID, "debian", "v1").unwrap()
}

/// The same scenario, whichever transport runs it.
trait Lifecycle {
    fn create_and_wait(&self, sim: &Simulator) -> Result<Task, Error>;
    fn delete_and_wait(&self, sim: &Simulator, id: &ImageId) -> Result<Task, Error>;
}

struct Blocking;
struct Async;

impl Lifecycle for Blocking {
    fn create_and_wait(&self, sim: &Simulator) -> Result<Task, Error> {
        let client = Client::ureq_with(sim.endpoint(), config())?.with_retry_policy(policy(4));
        let handle = client.create_image(&create())?;
        assert_eq!(handle.task().status, TaskStatus::Pending);
        handle.with_poll_policy(fast_polls()).wait()
    }

    fn delete_and_wait(&self, sim: &Simulator, id: &ImageId) -> Result<Task, Error> {
        let client = Client::ureq_with(sim.endpoint(), config())?.with_retry_policy(policy(4));
        client
            .delete_image(id)?
            .with_poll_policy(fast_polls())
            .wait()
    }
}

impl Lifecycle for Async {
    fn create_and_wait(&self, sim: &Simulator) -> Result<Task, Error> {
        multi_thread_runtime().block_on(async {
            let client =
                AsyncClient::hyper_with(sim.endpoint(), config())?.with_retry_policy(policy(4));
            let handle = client.create_image(&create()).await?;
            assert_eq!(handle.task().status, TaskStatus::Pending);
            handle.with_poll_policy(fast_polls()).wait().await
        })
    }

    fn delete_and_wait(&self, sim: &Simulator, id: &ImageId) -> Result<Task, Error> {
        multi_thread_runtime().block_on(async {
            let client =
                AsyncClient::hyper_with(sim.endpoint(), config())?.with_retry_policy(policy(4));
            client
                .delete_image(id)
                .await?
                .with_poll_policy(fast_polls())
                .wait()
                .await
        })
    }
}

fn transports() -> [(&'static str, Box<dyn Lifecycle>); 2] {
    [("ureq", Box::new(Blocking)), ("hyper", Box::new(Async))]
}

fn polls_of(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path.contains("/tasks/"))
        .count()
}

#[test]
fn create_then_delete_in_both_task_shapes() {
    for (name, transport) in transports() {
        for shape in [TaskShape::TopLevel, TaskShape::Data] {
            let sim = simulator_builder()
                .task_polls(2)
                .task_shape(shape)
                .build()
                .unwrap();
            let task = transport.create_and_wait(&sim).unwrap();
            assert_eq!(task.status, TaskStatus::Success, "{name}");
            let image = sim.images().into_iter().find(|i| i.id == new_id());
            let image = image.unwrap_or_else(|| panic!("{name}: the image was not created"));
            assert_eq!(image.status, ImageStatus::Ready);
            assert_eq!(image.description.as_deref(), Some("mine"));
            // PENDING twice, then SUCCESS: three polls, no more.
            assert_eq!(polls_of(&sim), 3, "{name}");

            let task = transport.delete_and_wait(&sim, &new_id()).unwrap();
            assert_eq!(task.status, TaskStatus::Success, "{name}");
            assert!(sim.images().iter().all(|i| i.id != new_id()), "{name}");
        }
    }
}

#[test]
fn a_failed_task_is_a_typed_error_in_both_spellings() {
    for (name, transport) in transports() {
        for outcome in [TaskOutcome::Failure, TaskOutcome::Failed] {
            let sim = simulator_builder()
                .task_polls(1)
                .task_outcome(outcome)
                .build()
                .unwrap();
            let err = transport.create_and_wait(&sim).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TaskFailed, "{name}: {err}");
            assert_no_secret(&err);
            assert!(sim.images().iter().all(|i| i.id != new_id()), "{name}");
        }
    }
}

#[test]
fn transient_errors_while_polling_do_not_end_the_wait() {
    for (name, transport) in transports() {
        let sim = simulator_builder().task_polls(1).build().unwrap();
        sim.inject(
            Fault::next(2, FaultAction::status(StatusCode::SERVICE_UNAVAILABLE))
                .on_path("/api/v1/tasks/"),
        );
        sim.inject(
            Fault::next(1, FaultAction::status(StatusCode::INTERNAL_SERVER_ERROR))
                .on_path("/api/v1/tasks/"),
        );
        let task = transport.create_and_wait(&sim).unwrap();
        assert_eq!(task.status, TaskStatus::Success, "{name}");
        // Three failed polls, PENDING once, then SUCCESS.
        assert_eq!(polls_of(&sim), 5, "{name}");
    }
}

#[test]
fn creates_are_never_retried_and_say_they_may_have_reached_the_server() {
    for (name, transport) in transports() {
        let sim = simulator_builder().build().unwrap();
        sim.inject(
            Fault::next(1, FaultAction::status(StatusCode::SERVICE_UNAVAILABLE))
                .on_path(support::IMAGES),
        );
        let err = transport.create_and_wait(&sim).unwrap_err();
        assert!(err.is_server_error(), "{name}: {err}");
        assert!(err.may_have_reached_server(), "{name}");
        assert_eq!(sim.requests().len(), 1, "{name}: a create was repeated");
    }
}

#[test]
fn deleting_an_unknown_image_is_not_found() {
    for (name, transport) in transports() {
        let sim = simulator_builder().build().unwrap();
        let err = transport.delete_and_wait(&sim, &new_id()).unwrap_err();
        assert!(err.is_not_found(), "{name}: {err}");
    }
}

#[test]
fn a_vanished_task_ends_the_wait_with_not_found() {
    for (name, transport) in transports() {
        let sim = simulator_builder().task_polls(5).build().unwrap();
        sim.inject(
            Fault::always(FaultAction::Status {
                status: StatusCode::NOT_FOUND,
                retry_after: None,
                body: Some(r#"{"errors":[{"code":404,"message":"task not found"}]}"#.into()),
            })
            .on_path("/api/v1/tasks/"),
        );
        let err = transport.create_and_wait(&sim).unwrap_err();
        assert!(err.is_not_found(), "{name}: {err}");
        assert_eq!(polls_of(&sim), 1, "{name}");
    }
}

#[test]
fn list_all_images_follows_pages_on_both_transports() {
    use coxedge_images::ListOptions;
    let sim = simulator_builder().build().unwrap();
    for i in 0..5 {
        let id = ImageId::new(CUSTOM_STACK_ID, "paged", &format!("v{i}")).unwrap();
        let created = coxedge_images::time::OffsetDateTime::UNIX_EPOCH;
        sim.add_image(coxedge_images::Image::new(
            id,
            "custom",
            created,
            ImageStatus::Ready,
        ));
    }
    let asked = ListOptions::new().page(1, 2);
    let client = Client::ureq_with(sim.endpoint(), config()).unwrap();
    let blocking = client.list_images(&asked).unwrap();
    let listed = multi_thread_runtime().block_on(async {
        let client = AsyncClient::hyper_with(sim.endpoint(), config()).unwrap();
        client.list_images(&asked).await
    });
    for list in [blocking, listed.unwrap()] {
        assert_eq!(list.images.len(), 7);
        let mut ids: Vec<_> = list.images.iter().map(|i| i.id.to_string()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 7);
    }
    // 7 images in pages of 2: 4 requests per transport.
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.query_value("page_number").is_some())
        .count();
    assert_eq!(pages, 8);
}

/// A delete the server answers `204 No Content` (the shape some proxies and
/// the v2 docs show), with no task to wait for.
mod no_content {
    use super::support::SEED_STACK_ID;
    use super::*;
    use coxedge_images::TransportConfig;
    use http::Method;

    fn no_content() -> Fault {
        Fault::always(FaultAction::Status {
            status: StatusCode::NO_CONTENT,
            retry_after: None,
            body: Some(String::new()),
        })
        .on(Method::DELETE, "/")
    }

    fn ubuntu() -> ImageId {
        format!("{SEED_STACK_ID}/ubuntu/v20201110").parse().unwrap()
    }

    #[test]
    fn a_delete_answered_204_succeeds_and_its_wait_returns_at_once() {
        let simulator = Simulator::start();
        simulator.inject(no_content());
        let client =
            Client::ureq_with(simulator.endpoint(), TransportConfig::default().no_proxy()).unwrap();
        let handle = client.delete_image(&ubuntu()).expect("a 204 is a success");
        assert!(handle.task().id.is_none());
        let task = handle.wait().expect("nothing to wait for");
        assert!(task.status.is_terminal());

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = AsyncClient::hyper_with(
                simulator.endpoint(),
                TransportConfig::default().no_proxy(),
            )
            .unwrap();
            let handle = client.delete_image(&ubuntu()).await.expect("204");
            handle.wait().await.expect("nothing to wait for");
        });
        // Two deletes, and not one poll.
        let requests = simulator.requests();
        assert_eq!(requests.len(), 2, "{requests:?}");
        assert!(requests.iter().all(|r| r.method == Method::DELETE));
    }
}
