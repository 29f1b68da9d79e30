//! The API itself: routing a request to list, get, create, delete or poll a
//! task, and the JSON answers, including CloudMC `errors` documents.

use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Serialize;

use super::query::{ImageType, ListQuery};
use super::state::{CUSTOM_SLUG, CUSTOM_STACK_ID, Shared, State};
use super::tasks::{TaskKind, TaskStarted};
use coxedge_images::{
    API_KEY_HEADER, Image, ImageId, ImageReference, ImageStatus, ListMetadata, SYSTEM_SLUG,
};

/// The page size used when only `page_number` is given.
const DEFAULT_PAGE_SIZE: u64 = 20;

/// A complete answer: status, headers and JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A JSON answer.
    pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => {
                let mut headers = HeaderMap::new();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Reply {
                    status,
                    headers,
                    body,
                }
            }
            Err(e) => Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the simulator could not encode its answer: {e}"),
                serde_json::Value::Null,
            ),
        }
    }

    /// A CloudMC error document with one entry whose `code` is the status.
    pub(crate) fn error(status: StatusCode, message: &str, context: serde_json::Value) -> Reply {
        Reply::errors(status, vec![(message.to_owned(), context)])
    }

    /// A CloudMC error document with one entry per problem.
    fn errors(status: StatusCode, problems: Vec<(String, serde_json::Value)>) -> Reply {
        let entries: Vec<serde_json::Value> = problems
            .into_iter()
            .map(|(message, context)| {
                let mut entry = serde_json::Map::new();
                entry.insert("code".into(), status.as_u16().into());
                entry.insert("message".into(), message.into());
                if !context.is_null() {
                    entry.insert("context".into(), context);
                }
                serde_json::Value::Object(entry)
            })
            .collect();
        Reply::json(status, &serde_json::json!({ "errors": entries }))
    }
}

/// A request, as the routes see it.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: &'a [(String, String)],
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// Answers a request as the API would.
pub(crate) fn respond(shared: &Shared, request: &Incoming<'_>) -> Reply {
    let Some(rest) = ["/api/v1/", "/api/v2/"]
        .iter()
        .find_map(|prefix| request.path.strip_prefix(prefix))
    else {
        return not_found(request.path);
    };
    if let Some(reply) = check_key(shared, request.headers) {
        return reply;
    }
    let segments: Vec<String> = match rest.split('/').map(percent_decode).collect() {
        Some(segments) => segments,
        None => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "The request path is not valid percent-encoded UTF-8",
                serde_json::Value::Null,
            );
        }
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method;
    match segments.as_slice() {
        ["services", service, env, "images"] if valid(&[service, env]) => match *method {
            Method::GET => list(shared, request.query),
            Method::POST => create(shared, request.body),
            _ => not_allowed("GET, POST"),
        },
        ["services", service, env, "images", stack, family, tag]
            if valid(&[service, env, stack, family, tag]) =>
        {
            match *method {
                Method::GET => get(shared, stack, family, tag),
                Method::DELETE => delete(shared, stack, family, tag),
                _ => not_allowed("GET, DELETE"),
            }
        }
        ["tasks", id] if !id.is_empty() => match *method {
            Method::GET => poll_task(shared, id),
            _ => not_allowed("GET"),
        },
        _ => not_found(request.path),
    }
}

/// No segment of a route may be empty.
fn valid(segments: &[&&str]) -> bool {
    segments.iter().all(|s| !s.is_empty())
}

fn not_found(path: &str) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        "No such API route",
        serde_json::json!({ "path": path }),
    )
}

fn not_allowed(allow: &'static str) -> Reply {
    let mut reply = Reply::error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed on this route",
        serde_json::json!({ "allowed": allow }),
    );
    reply.headers.insert(ALLOW, HeaderValue::from_static(allow));
    reply
}

/// 401 without a key (an empty one counts as none), 403 with the wrong
/// one; the key is never echoed.
fn check_key(shared: &Shared, headers: &HeaderMap) -> Option<Reply> {
    let key = headers
        .get(API_KEY_HEADER)
        .filter(|key| !key.as_bytes().trim_ascii().is_empty());
    match key {
        None => Some(Reply::error(
            StatusCode::UNAUTHORIZED,
            "Missing MC-Api-Key header",
            serde_json::Value::Null,
        )),
        Some(key) if key.as_bytes() == shared.config.api_key.as_bytes() => None,
        Some(_) => Some(Reply::error(
            StatusCode::FORBIDDEN,
            "The API key is not valid",
            serde_json::Value::Null,
        )),
    }
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Serialize)]
struct ListAnswer<'a> {
    data: Vec<&'a Image>,
    metadata: ListMetadata,
}

fn list(shared: &Shared, query: &[(String, String)]) -> Reply {
    let options = match ListQuery::from_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(options) => options,
        Err(message) => {
            return Reply::error(StatusCode::BAD_REQUEST, &message, query_context(query));
        }
    };
    let paging = options.page_number.is_some() || options.page_size.is_some();
    let page_number = u64::from(options.page_number.unwrap_or(1));
    let page_size = options.page_size.map_or(DEFAULT_PAGE_SIZE, u64::from);
    if paging && (page_number == 0 || page_size == 0) {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            "page_number and page_size must be at least 1",
            query_context(query),
        );
    }
    let state = shared.lock();
    let selected: Vec<&Image> = state
        .images
        .iter()
        .filter(|image| {
            let system = image.slug == SYSTEM_SLUG;
            let system_ok = options.include_only_system_images != Some(true) || system;
            let type_ok = match options.image_type {
                None => true,
                Some(ImageType::Default) => system,
                Some(ImageType::Custom) => !system,
            };
            system_ok && type_ok
        })
        .collect();
    let mut metadata = ListMetadata::default();
    metadata.record_count = Some(selected.len() as u64);
    let data = if paging {
        metadata.page_size = Some(page_size);
        metadata.page_current = Some(page_number);
        let skip = (page_number - 1).saturating_mul(page_size);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        let take = usize::try_from(page_size).unwrap_or(usize::MAX);
        selected.into_iter().skip(skip).take(take).collect()
    } else {
        selected
    };
    Reply::json(StatusCode::OK, &ListAnswer { data, metadata })
}

fn query_context(query: &[(String, String)]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = query
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::json!({ "query": map })
}

#[derive(Serialize)]
struct DataAnswer<'a> {
    data: &'a Image,
}

fn image_not_found(stack: &str, family: &str, tag: &str) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        &format!("Image {stack}/{family}/{tag} not found"),
        serde_json::json!({
            "stackId": stack,
            "family": family,
            "tag": tag,
            "type": "images",
        }),
    )
}

fn get(shared: &Shared, stack: &str, family: &str, tag: &str) -> Reply {
    let state = shared.lock();
    match state.find_image(stack, family, tag) {
        Some(image) => Reply::json(StatusCode::OK, &DataAnswer { data: image }),
        None => image_not_found(stack, family, tag),
    }
}

fn task_started(state: &mut State, kind: TaskKind) -> Reply {
    let id = state.start_task(kind);
    Reply::json(
        StatusCode::OK,
        &TaskStarted {
            task_id: &id,
            task_status: "PENDING",
        },
    )
}

fn delete(shared: &Shared, stack: &str, family: &str, tag: &str) -> Reply {
    let mut state = shared.lock();
    let Some(image) = state.find_image(stack, family, tag).cloned() else {
        return image_not_found(stack, family, tag);
    };
    task_started(&mut state, TaskKind::Delete(image))
}

/// Validates `{"family", "tag", "workloadId", "instanceName", "description"?}`
/// and starts a task that adds the custom image when it succeeds.
fn create(shared: &Shared, body: &[u8]) -> Reply {
    let bad = |problems: Vec<(String, serde_json::Value)>| {
        Reply::errors(StatusCode::BAD_REQUEST, problems)
    };
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return bad(vec![(
                format!("The request body is not valid JSON: {e}"),
                serde_json::Value::Null,
            )]);
        }
    };
    let Some(object) = value.as_object() else {
        return bad(vec![(
            "The request body must be a JSON object".into(),
            serde_json::Value::Null,
        )]);
    };
    let mut problems = Vec::new();
    let mut field = |name: &str| match object.get(name) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(serde_json::Value::String(_)) => {
            problems.push((format!("{name} must not be empty"), field_context(name)));
            None
        }
        Some(_) => {
            problems.push((format!("{name} must be a string"), field_context(name)));
            None
        }
        None => {
            problems.push((format!("{name} is required"), field_context(name)));
            None
        }
    };
    let (family, tag, workload, instance) = (
        field("family"),
        field("tag"),
        field("workloadId"),
        field("instanceName"),
    );
    let description = match object.get("description") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problems.push((
                "description must be a string".into(),
                field_context("description"),
            ));
            None
        }
    };
    let (Some(family), Some(tag), Some(_), Some(_)) = (family, tag, workload, instance) else {
        return bad(problems);
    };
    if !problems.is_empty() {
        return bad(problems);
    }
    let id = match ImageId::new(CUSTOM_STACK_ID, &family, &tag) {
        Ok(id) => id,
        Err(e) => return bad(vec![(e.to_string(), serde_json::Value::Null)]),
    };
    let reference = match ImageReference::new(CUSTOM_SLUG, &family, Some(&tag)) {
        Ok(reference) => reference,
        Err(e) => return bad(vec![(e.to_string(), serde_json::Value::Null)]),
    };
    let mut image = Image::new(
        id,
        CUSTOM_SLUG,
        time::OffsetDateTime::now_utc(),
        ImageStatus::Ready,
    )
    .with_reference(reference.as_str());
    if let Some(description) = description {
        image = image.with_description(description);
    }
    let mut state = shared.lock();
    if state.images.iter().any(|i| i.id == image.id) {
        return bad(vec![(
            format!("Image {} already exists", image.id),
            serde_json::json!({ "id": image.id.as_str() }),
        )]);
    }
    task_started(&mut state, TaskKind::Create(image))
}

fn field_context(name: &str) -> serde_json::Value {
    serde_json::json!({ "field": name })
}

fn poll_task(shared: &Shared, id: &str) -> Reply {
    let config = &shared.config;
    let mut state = shared.lock();
    let Some(task) = state.tasks.get_mut(id) else {
        return Reply::error(
            StatusCode::NOT_FOUND,
            &format!("Task {id} not found"),
            serde_json::json!({ "id": id, "type": "tasks" }),
        );
    };
    let change = task.poll(config.task_polls, config.task_outcome);
    let answer = task.to_json(config.task_shape);
    if let Some(change) = change {
        state.apply(change);
    }
    Reply::json(StatusCode::OK, &answer)
}
