//! AWS → State, one module per service. Collectors do not judge: they map SDK output into the
//! model, mark what they could not read as Unknown, and record calls, timings and errors.

pub mod stats;

pub use stats::{CollectionError, CollectionStats, Recorder};
