//! Compile the control catalogue (controls/*.toml, controls/frameworks/*.toml) into the binary.
use std::fmt::Write;
use std::path::Path;

fn list(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn main() {
    // at run time, not env!(): a target dir shared by several clones reuses this script
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest);
    let controls = root.join("controls");
    println!("cargo:rerun-if-changed=controls");
    println!("cargo:rerun-if-changed=controls/frameworks");
    let mut out = String::new();
    for (name, dir) in [("CONTROL_FILES", controls.clone()), ("FRAMEWORK_FILES", controls.join("frameworks"))] {
        writeln!(out, "pub static {name}: &[(&str, &str)] = &[").unwrap();
        for f in list(&dir) {
            println!("cargo:rerun-if-changed={}", f.display());
            let stem = f.file_stem().unwrap().to_string_lossy();
            writeln!(out, "    ({stem:?}, include_str!({:?})),", f.display().to_string()).unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalogue_files.rs");
    std::fs::write(dest, out).unwrap();
}
