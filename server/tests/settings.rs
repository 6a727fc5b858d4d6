//! The server binary's settings as an operator meets them: `server --help` lists every setting
//! with its flag, environment variable, default and range, README.md's settings table says the
//! same (both ways round), and a bad value stops the server with a message naming the setting.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_server");

/// One setting as `--help` or the README's table states it.
#[derive(Debug, Default, PartialEq)]
struct Setting {
    /// `None` for a flag without a variable (`--json-logs`).
    env: Option<String>,
    default: Option<String>,
    /// `[range: ..]` or `[possible values: ..]`.
    range: Option<String>,
}

/// The text between `open` and the next `]` in `text`.
fn tag(text: &str, open: &str) -> Option<String> {
    let rest = &text[text.find(open)? + open.len()..];
    Some(rest[..rest.find(']')?].trim().to_owned())
}

/// `--help`'s settings by flag (help and version left out).
fn from_help(help: &str) -> BTreeMap<String, Setting> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("--") || trimmed.starts_with("-h, ") || trimmed.starts_with("-V, ") {
            let entry = trimmed.trim_start_matches("-h, ").trim_start_matches("-V, ");
            let flag = entry.split_whitespace().next().unwrap_or_default().to_owned();
            blocks.push((flag, entry.to_owned())); // the help may follow on the same line
        } else if indent == 0 {
            blocks.push((String::new(), String::new())); // a heading ends the entry before it
        } else if let Some((_, text)) = blocks.last_mut() {
            text.push(' ');
            text.push_str(trimmed); // lines joined, so a wrapped tag reads whole
        }
    }
    blocks
        .into_iter()
        .filter(|(flag, _)| flag.starts_with("--") && flag != "--help" && flag != "--version")
        .map(|(flag, text)| {
            let env = tag(&text, "[env: ").map(|e| e.split('=').next().unwrap_or_default().to_owned());
            let range = tag(&text, "[range: ").or_else(|| tag(&text, "[possible values: "));
            (flag, Setting { env, default: tag(&text, "[default: "), range })
        })
        .collect()
}

/// The README's settings table by flag; cells without backticks (prose, "—") are `None`.
fn from_readme(readme: &str) -> BTreeMap<String, Setting> {
    let section = readme.split("\n### Settings\n").nth(1).expect("README has a ### Settings section");
    let section = section.split("\n#").next().unwrap_or_default();
    let code = |cell: &str| {
        let cell = cell.trim();
        (cell.starts_with('`') && cell.ends_with('`')).then(|| cell.trim_matches('`').to_owned())
    };
    section
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
            assert!(cells.len() >= 4, "a row of flag, environment, default, range: {row}");
            let flag = code(cells[0]).expect("a flag");
            (flag, Setting { env: code(cells[1]), default: code(cells[2]), range: code(cells[3]) })
        })
        .collect()
}

fn run_server(args: &[&str], env: &[(&str, &str)]) -> Output {
    let data = tempfile::tempdir().expect("temp dir");
    // PULSE_TEST_SERVER: see `common::server_bin` (a shared target directory's own binary).
    let mut cmd = Command::new(std::env::var_os("PULSE_TEST_SERVER").unwrap_or_else(|| SERVER.into()));
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Whatever the test's own environment says, nothing here may take a real port or data dir.
    cmd.env("PULSE_ADDR", "127.0.0.1:0").env("PULSE_DATA_DIR", data.path()).envs(env.iter().copied());
    let mut child = cmd.spawn().expect("the server binary runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`server {args:?}` with {env:?} did not exit: it started serving");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

fn help() -> String {
    let out = run_server(&["--help"], &[]);
    assert!(out.status.success(), "--help exits 0: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn help_lists_every_setting_with_its_variable_default_and_range() {
    let settings = from_help(&help());
    assert!(settings.len() >= 20, "settings in --help: {settings:#?}");
    for (flag, s) in &settings {
        assert!(s.env.is_some() || flag == "--json-logs", "{flag} has no environment variable");
    }
    let processors = &settings["--processors"];
    assert_eq!(processors.env.as_deref(), Some("PULSE_PROCESSORS"));
    assert_eq!((processors.default.as_deref(), processors.range.as_deref()), (Some("2"), Some("1..=1024")));
}

#[test]
fn the_readme_settings_table_is_what_help_says() {
    let help = from_help(&help());
    let readme = from_readme(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md"),
    );
    let vars =
        |m: &BTreeMap<String, Setting>| m.values().filter_map(|s| s.env.clone()).collect::<BTreeSet<_>>();
    let (in_help, in_readme) = (vars(&help), vars(&readme));
    let undocumented: Vec<_> = in_help.difference(&in_readme).collect();
    let unknown: Vec<_> = in_readme.difference(&in_help).collect();
    assert!(undocumented.is_empty(), "in --help, missing from README's settings table: {undocumented:?}");
    assert!(unknown.is_empty(), "in README's settings table, not in --help: {unknown:?}");
    assert_eq!(help.keys().collect::<Vec<_>>().len(), readme.len(), "one row per flag");
    for (flag, h) in &help {
        let r = readme.get(flag).unwrap_or_else(|| panic!("{flag} has no row in README's settings table"));
        assert_eq!(r.env, h.env, "{flag}: environment variable");
        if h.default.is_some() {
            assert_eq!(r.default, h.default, "{flag}: default");
        }
        if h.range.is_some() {
            assert_eq!(r.range, h.range, "{flag}: range");
        }
    }
}

#[test]
fn a_bad_value_stops_the_server_naming_the_setting() {
    let out = run_server(&[], &[("PULSE_PROCESSORS", "0")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "PULSE_PROCESSORS=0 must not start: {out:?}");
    assert!(stderr.contains("--processors") && stderr.contains("PULSE_PROCESSORS"), "{stderr}");
    let out = run_server(&["--batch-timeout-ms", "soon"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("PULSE_BATCH_TIMEOUT_MS"), "{stderr}");
}
