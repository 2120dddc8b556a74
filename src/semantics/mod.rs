//! Pure modules that judge configuration the way AWS evaluates it (policies, networks,
//! engine settings, secret-looking values), with table tests from AWS's documentation.

pub mod db_tls;
pub mod network;
pub mod policy;
pub mod secret_values;
