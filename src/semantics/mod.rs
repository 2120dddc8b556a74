//! Pure semantic modules: how AWS evaluates policies, networks and settings.

pub mod network;
