//! Pure modules that judge configuration the way AWS evaluates it, with table tests from AWS's
//! documentation.

pub mod db_tls;
