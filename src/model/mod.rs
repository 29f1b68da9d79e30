//! Layer 0, the model: ids, images, statuses, tasks, options and errors, as
//! typed values that validate themselves. Imports nothing else of the crate.

pub(crate) mod config_error;
pub(crate) mod error;
pub(crate) mod filter;
pub(crate) mod host;
pub(crate) mod id;
pub(crate) mod image;
pub(crate) mod list_options;
pub(crate) mod reference;
pub(crate) mod secret;
pub(crate) mod segment;
pub(crate) mod status;
pub(crate) mod strings;
pub(crate) mod task;
pub(crate) mod transport_error;
