//! (in progress) records calls under "config".

use super::Ctx;
use crate::model::config::Config;

pub async fn collect(_ctx: &Ctx) -> Config {
    Config::default()
}
