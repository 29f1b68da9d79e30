//! [`SimBody`]: the response bodies the simulator sends, whole or streamed
//! step by step (for the slow, stalled, truncated and oversized faults).

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::time::Sleep;

/// Size of one chunk of an oversized body.
const FILLER_CHUNK: usize = 16 * 1024;

/// `0,0,0,…`: the inside of a JSON array, so an oversized body looks valid.
static FILLER: [u8; FILLER_CHUNK] = {
    let mut bytes = [b'0'; FILLER_CHUNK];
    let mut i = 1;
    while i < FILLER_CHUNK {
        bytes[i] = b',';
        i += 2;
    }
    bytes
};

/// One step of a streamed body.
pub(crate) enum Step {
    /// Send these bytes as one frame.
    Data(Bytes),
    /// Wait before the next step (the server flushes what it has meanwhile).
    Pause(Duration),
    /// Fail the body: the server aborts the connection.
    Fail(&'static str),
    /// Never produce anything again.
    Hang,
    /// Stream `remaining` filler bytes in chunks, never holding them all.
    Filler {
        /// Bytes still to send.
        remaining: u64,
    },
}

/// A response body: a list of steps played in order.
pub(crate) struct SimBody {
    steps: VecDeque<Step>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// The exact remaining length, when known (whole bodies only). Streamed
    /// bodies leave it unknown so a `Content-Length` header set by hand wins.
    exact: Option<u64>,
}

impl SimBody {
    /// A whole body, sent at once with its exact length.
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let exact = Some(bytes.len() as u64);
        let steps = if bytes.is_empty() {
            VecDeque::new()
        } else {
            VecDeque::from([Step::Data(bytes)])
        };
        SimBody {
            steps,
            sleep: None,
            exact,
        }
    }

    /// A streamed body of unknown length.
    pub(crate) fn script(steps: impl IntoIterator<Item = Step>) -> Self {
        SimBody {
            steps: steps.into_iter().collect(),
            sleep: None,
            exact: None,
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(sleep) = this.sleep.as_mut() {
                ready!(sleep.as_mut().poll(cx));
                this.sleep = None;
            }
            let Some(step) = this.steps.front_mut() else {
                return Poll::Ready(None);
            };
            match step {
                Step::Data(bytes) => {
                    let bytes = std::mem::take(bytes);
                    this.steps.pop_front();
                    if let Some(exact) = this.exact.as_mut() {
                        *exact = exact.saturating_sub(bytes.len() as u64);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Step::Pause(delay) => {
                    this.sleep = Some(Box::pin(tokio::time::sleep(*delay)));
                    this.steps.pop_front();
                }
                Step::Fail(why) => {
                    let why = *why;
                    this.steps.pop_front();
                    return Poll::Ready(Some(Err(io::Error::other(why))));
                }
                // Nothing will ever wake this body: the connection stays open
                // until the client gives up or the simulator stops.
                Step::Hang => return Poll::Pending,
                Step::Filler { remaining } => {
                    let chunk = (*remaining).min(FILLER_CHUNK as u64);
                    *remaining -= chunk;
                    if *remaining == 0 {
                        this.steps.pop_front();
                    }
                    // `chunk` is at most FILLER_CHUNK, so the cast is exact.
                    let bytes = Bytes::from_static(&FILLER[..chunk as usize]);
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.steps.is_empty() && self.sleep.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
