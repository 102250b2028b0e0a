//! What the drills found, as a Markdown report: per drill, what was done,
//! what was measured, and each check with its verdict.

use drivers::Error;

use crate::Length;

#[derive(Default)]
pub struct Section {
    /// What was done and measured, one line each.
    pub facts: Vec<String>,
    pub checks: Vec<Check>,
}

pub struct Check {
    pub claim: String,
    pub passed: bool,
    pub detail: String,
}

impl Section {
    pub fn fact(&mut self, fact: impl Into<String>) {
        self.facts.push(fact.into());
    }

    pub fn check(&mut self, claim: impl Into<String>, passed: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            claim: claim.into(),
            passed,
            detail: detail.into(),
        });
    }
}

pub struct Report {
    length: Length,
    started: String,
    drills: Vec<(String, Result<Section, String>)>,
}

impl Report {
    pub fn new(length: Length) -> Self {
        Self {
            length,
            started: now(),
            drills: Vec::new(),
        }
    }

    pub fn add(&mut self, drill: &str, section: Result<Section, Error>) {
        self.drills
            .push((drill.to_owned(), section.map_err(|e| e.to_string())));
    }

    pub fn passed(&self) -> bool {
        self.drills.iter().all(|(_, section)| {
            section
                .as_ref()
                .is_ok_and(|s| s.checks.iter().all(|c| c.passed))
        })
    }

    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        for (drill, section) in &self.drills {
            match section {
                Ok(section) => {
                    let failed = section.checks.iter().filter(|c| !c.passed).count();
                    lines.push(format!(
                        "chaos {drill}: {} checks, {failed} failed",
                        section.checks.len()
                    ));
                    for check in section.checks.iter().filter(|c| !c.passed) {
                        lines.push(format!("  FAILED: {} — {}", check.claim, check.detail));
                    }
                }
                Err(error) => lines.push(format!("chaos {drill}: could not run: {error}")),
            }
        }
        lines.join("\n")
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# Chaos report\n\n{:?} run started {} on this machine; finished {}.\n\n**{}**\n",
            self.length,
            self.started,
            now(),
            if self.passed() {
                "All checks passed."
            } else {
                "Some checks FAILED."
            }
        );
        for (drill, section) in &self.drills {
            md += &format!("\n## {drill}\n\n");
            match section {
                Err(error) => md += &format!("Could not run: {error}\n"),
                Ok(section) => {
                    for fact in &section.facts {
                        md += &format!("- {fact}\n");
                    }
                    md += "\n| check | verdict | detail |\n|---|---|---|\n";
                    for check in &section.checks {
                        md += &format!(
                            "| {} | {} | {} |\n",
                            check.claim,
                            if check.passed { "pass" } else { "**FAIL**" },
                            check.detail
                        );
                    }
                }
            }
        }
        md
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
