//! `tapaudit completions <shell>` and `tapaudit man`: generated from the CLI definition
//! (`cli::Cli`), so they always match the binary.

use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;
use std::path::Path;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tapaudit", &mut out);
    out
}

/// The top-level man page (roff), listing every command.
pub fn man_page() -> Vec<u8> {
    render(Cli::command(), "tapaudit")
}

/// One page: title `TAPAUDIT-SCAN`, section 1, source `tapaudit <version>`.
fn render(cmd: clap::Command, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let man =
        clap_mangen::Man::new(cmd).title(name.to_uppercase()).section("1").source(format!("tapaudit {}", env!("CARGO_PKG_VERSION"))).manual("tapaudit manual");
    man.render(&mut out).expect("rendering into memory does not fail");
    out
}

/// One page per command into `dir`: tapaudit.1, tapaudit-scan.1, tapaudit-controls-list.1, ...
/// Returns the files written.
pub fn man_pages(dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.display().to_string(), source })?;
    let mut written = Vec::new();
    let mut cmd = Cli::command();
    cmd.build(); // the global flags into every subcommand
    write_pages(cmd, "tapaudit", dir, &mut written)?;
    Ok(written)
}

fn write_pages(cmd: clap::Command, name: &str, dir: &Path, written: &mut Vec<String>) -> Result<()> {
    // after `build`, a subcommand's display name is `tapaudit-scan`, its bin name `tapaudit scan`
    let cmd = cmd.display_name(name.to_string()).bin_name(name.replace('-', " "));
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, render(cmd.clone(), name)).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
    written.push(path.display().to_string());
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub.clone(), &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_man_page_names_every_command() {
        let page = String::from_utf8(super::man_page()).unwrap();
        assert!(page.contains(".TH TAPAUDIT 1 "), "{}", &page[..page.len().min(300)]);
        for c in ["validate", "plan", "provision", "outputs", "scan", "controls", "destroy", "completions", "man"] {
            assert!(page.contains(&format!("tapaudit\\-{c}(1)")), "{c} missing");
        }
    }
}
