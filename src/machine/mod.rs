//! Layer 2, the machines: the driving protocol ([`Operation`](crate::Operation)),
//! and the operations built on the wire layer's requests and decoders:
//! one call with retries and redirects (`Call`, over the private
//! `Exchange` and `RetryPolicy`'s decision), every page (`ListAll`,
//! `Resolve`), a task wait (`WaitTask`, over the private `TaskPoller`).
//! Every operation answers a driver's misuse the same way (`Guard`).

pub(crate) mod call;
pub(crate) mod exchange;
pub(crate) mod operation;
pub(crate) mod paging;
pub(crate) mod poller;
pub(crate) mod retry;
pub(crate) mod wait;

#[cfg(test)]
mod poller_tests;
#[cfg(test)]
mod quiet_tests;
#[cfg(test)]
mod retry_tests;
#[cfg(test)]
mod wait_limits_tests;
