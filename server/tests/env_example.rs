//! `.env.example`, the README's configuration table and the book's
//! (`docs/src/configuration.md`) name exactly the variables the server reads: the configuration is asked in each
//! environment with a lookup that records every name it is asked for.

use std::cell::RefCell;
use std::collections::BTreeSet;

use server::config::Config;

/// Read by others than `Config`: cargo-leptos and leptos_config, and the
/// log filter in `main`.
const READ_ELSEWHERE: [&str; 3] = ["LEPTOS_SITE_ADDR", "LEPTOS_RELOAD_PORT", "RUST_LOG"];

/// Every name `Config::from_lookup` asks for, given these settings.
fn asked_for(settings: &[(&str, &str)]) -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    Config::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_owned());
        settings
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
    .expect("a valid configuration");
    asked.into_inner()
}

fn read(file: &str) -> String {
    let path = format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn what_the_server_reads() -> BTreeSet<String> {
    let mut names = asked_for(&[]); // the sandbox environment, embedded
    names.extend(asked_for(&[
        ("ALTERNATIVE_ENVIRONMENT", "production"),
        ("ALTERNATIVE_CLIENT_ID", "client"),
        ("ALTERNATIVE_CLIENT_SECRET", "secret"),
    ]));
    // A fleet: the settings that come with a shared Redis.
    names.extend(asked_for(&[
        ("MERCHANT_REDIS_URL", "redis://127.0.0.1:6379"),
        ("MERCHANT_INSTANCES", "2"),
    ]));
    names.extend(READ_ELSEWHERE.map(str::to_owned));
    names
}

/// `NAME` of every `# NAME=default` line.
fn names_in_env_example(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# ")?.split_once('='))
        .map(|(name, _)| name)
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn env_example_lists_every_variable_the_server_reads_once_with_its_meaning() {
    let text = read(".env.example");
    let listed = names_in_env_example(&text);
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "a variable listed twice");
    assert_eq!(unique, what_the_server_reads());
    // Each group of settings opens with a comment that says what it means.
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().collect();
        if lines.iter().any(|l| l.starts_with("# ") && l.contains('=')) {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("# ") && !l.contains('=')),
                "no explanation for:\n{block}"
            );
        }
    }
}

/// The variables named in the first column of a table's rows, in the
/// document's text from `heading` to the next heading of its level.
fn table_in(path: &str, heading: &str) -> BTreeSet<String> {
    let text = read(path);
    let level = heading.split(' ').next().unwrap();
    let section = text
        .split(&format!("{heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{path} has no {heading}"))
        .split(&format!("\n{level} "))
        .next()
        .unwrap();
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_table_lists_the_same_variables() {
    assert_eq!(
        table_in("README.md", "## Configuration"),
        what_the_server_reads()
    );
}

#[test]
fn the_books_table_lists_the_same_variables() {
    assert_eq!(
        table_in("docs/src/configuration.md", "# Configuration"),
        what_the_server_reads()
    );
}
