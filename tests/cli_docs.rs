//! `tapaudit completions` and `tapaudit man`: generated from the CLI definition, usable by the
//! shells and by man. No AWS access.

mod support;

use std::process::Command;
use support::Emulator;

const COMMANDS: &[&str] = &["validate", "plan", "provision", "outputs", "scan", "controls", "destroy", "completions", "man"];

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

fn completions(shell: &str) -> String {
    let r = Emulator::offline_run(&["completions", shell]).ok(&format!("completions {shell}"));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    r.stdout
}

#[test]
fn the_bash_completion_script_registers_tapaudit_and_completes_commands_and_flags() {
    let script = completions("bash");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tapaudit.bash");
    std::fs::write(&path, &script).unwrap();
    // source it, check the registration, then ask the function for completions as bash would
    let probe = format!(
        r#"source {p}
complete -p tapaudit
COMP_WORDS=(tapaudit sc); COMP_CWORD=1; COMP_LINE="tapaudit sc"; COMP_POINT=${{#COMP_LINE}}
_tapaudit tapaudit sc tapaudit; echo "words: ${{COMPREPLY[*]}}"
COMP_WORDS=(tapaudit scan --f); COMP_CWORD=2; COMP_LINE="tapaudit scan --f"; COMP_POINT=${{#COMP_LINE}}
_tapaudit tapaudit --f scan; echo "flags: ${{COMPREPLY[*]}}""#,
        p = path.display()
    );
    let out = Command::new("bash").args(["--norc", "--noprofile", "-c", &probe]).output().expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().any(|l| l.starts_with("complete ") && l.ends_with("-F _tapaudit tapaudit")), "{stdout}");
    assert!(stdout.lines().any(|l| l == "words: scan"), "{stdout}");
    let flags = stdout.lines().find(|l| l.starts_with("flags: ")).unwrap_or_default();
    assert!(flags.contains("--fail-on") && flags.contains("--fail-on-new") && flags.contains("--format") && flags.contains("--framework"), "{stdout}");
}

#[test]
fn zsh_and_fish_completions_name_every_command() {
    for shell in ["zsh", "fish"] {
        let script = completions(shell);
        for c in COMMANDS {
            assert!(script.contains(c), "{shell} completion lacks {c}");
        }
    }
    let zsh = completions("zsh");
    assert!(zsh.starts_with("#compdef tapaudit"), "{}", &zsh[..40.min(zsh.len())]);
    if have("zsh") {
        let out = Command::new("zsh").args(["-n", "-c", &zsh]).output().unwrap();
        assert!(out.status.success(), "zsh -n: {}", String::from_utf8_lossy(&out.stderr));
    }
    let fish = completions("fish");
    assert!(fish.contains("complete -c tapaudit"), "{fish}");
    assert!(fish.contains("-l fail-on"), "the scan flags are completed");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let r = Emulator::offline_run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bash") && r.stderr.contains("zsh") && r.stderr.contains("fish"), "{}", r.stderr);
}

#[test]
fn the_man_page_is_roff_that_lists_every_command_and_renders() {
    let r = Emulator::offline_run(&["man"]).ok("man");
    let page = r.stdout;
    assert!(page.lines().any(|l| l.starts_with(".TH TAPAUDIT 1 ")), "{}", &page[..300.min(page.len())]);
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section}");
    }
    for c in COMMANDS {
        assert!(page.contains(&format!("tapaudit\\-{c}(1)")), "the page does not list {c}");
    }
    assert!(page.contains("\\-\\-quiet"), "global flags are documented");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tapaudit.1");
    std::fs::write(&file, &page).unwrap();
    let rendered = if have("man") {
        Command::new("man").arg("-l").arg(&file).env("MANPAGER", "cat").env("PAGER", "cat").env("MANWIDTH", "100").output().unwrap()
    } else if have("groff") {
        Command::new("groff").args(["-man", "-Tutf8"]).arg(&file).output().unwrap()
    } else {
        eprintln!("neither man nor groff: only the roff structure is checked");
        return;
    };
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    assert!(text.contains("TAPAUDIT(1)") && text.contains("SUBCOMMANDS") && text.contains("provision"), "{text}");
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let r = Emulator::offline_run(&["man", "--out-dir", d]).ok("man --out-dir");
    assert!(r.stdout.is_empty(), "pages go to files: {}", r.stdout);
    for c in COMMANDS {
        let page = std::fs::read_to_string(dir.path().join(format!("tapaudit-{c}.1"))).unwrap_or_else(|e| panic!("tapaudit-{c}.1: {e}"));
        assert!(page.contains(&format!(".TH TAPAUDIT-{} 1 ", c.to_uppercase())), "{c}: {}", &page[..200.min(page.len())]);
    }
    let scan = std::fs::read_to_string(dir.path().join("tapaudit-scan.1")).unwrap();
    assert!(scan.contains("\\-\\-fail\\-on") && scan.contains("\\-\\-region"), "scan's own and the global flags");
    assert!(dir.path().join("tapaudit-controls-list.1").exists());
    let q = Emulator::offline_run(&["--quiet", "man", "--out-dir", d]).ok("man --quiet");
    assert!(q.stderr.is_empty(), "{}", q.stderr);
}
