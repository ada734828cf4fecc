//! End-to-end: `scan` and `evaluate` on the fixture images, for each rules
//! package; the weaknesses of debian-weak are each reported by the right
//! rule with the right file and line, and debian-clean reports none.

mod common;

use std::path::Path;

use common::{coldscan, coldscan_json, fixture};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Findings of `report` for `rule_id`.
fn findings<'a>(report: &'a Value, rule_id: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule_id)
        .collect()
}

/// `file:line value` of each evidence item of a finding.
fn evidence(finding: &Value) -> Vec<String> {
    finding["evidence"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            format!(
                "{}:{} {}",
                e["file"].as_str().unwrap_or("-"),
                e["line"]
                    .as_u64()
                    .map(|l| l.to_string())
                    .unwrap_or("-".into()),
                e["value"].as_str().unwrap()
            )
        })
        .collect()
}

/// 1-based line of the first line of a committed fixture tree file that
/// starts with `prefix`: expectations come from the files, not from memory.
fn line_of(tree_file: &str, prefix: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/trees")
        .join(tree_file);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .position(|l| l.starts_with(prefix))
        .expect(prefix)
        + 1
}

#[test]
fn debian_weak_reports_each_weakness_with_file_and_line() {
    let img = fixture("debian-weak");
    let r = coldscan_json(&["scan", s(&img), "--packages", "security-best-practices"]);
    let one = |id: &str| -> Vec<String> {
        let f = findings(&r, id);
        assert_eq!(f.len(), 1, "{id}: {f:?}");
        assert_eq!(f[0]["rules_package"], "security-best-practices");
        evidence(f[0])
    };
    let dropin = "debian-weak/etc/ssh/sshd_config.d/50-weak.conf";
    assert_eq!(
        one("sbp-ssh-root-login"),
        [format!(
            "/etc/ssh/sshd_config.d/50-weak.conf:{} permitrootlogin yes",
            line_of(dropin, "PermitRootLogin")
        )]
    );
    assert_eq!(
        one("sbp-ssh-password-auth"),
        [format!(
            "/etc/ssh/sshd_config.d/50-weak.conf:{} passwordauthentication yes",
            line_of(dropin, "PasswordAuthentication")
        )]
    );
    let max_age = one("sbp-password-max-age");
    assert_eq!(
        max_age[0],
        format!(
            "/etc/login.defs:{} PASS_MAX_DAYS 99999",
            line_of("debian-weak/etc/login.defs", "PASS_MAX_DAYS")
        )
    );
    assert!(max_age[1].starts_with(&format!(
        "/etc/shadow:{} admin: maximum password age 99999",
        line_of("debian-weak/etc/shadow", "admin:")
    )));
    for id in ["sbp-password-min-length", "sbp-password-complexity"] {
        assert_eq!(
            one(id)[0],
            "/etc/pam.d/common-password:- no pam_pwquality or pam_cracklib password rule"
        );
    }
    assert_eq!(
        one("sbp-aslr"),
        ["/etc/sysctl.d/50-weak.conf:1 kernel.randomize_va_space = 0"]
    );
    assert_eq!(
        one("sbp-system-dirs"),
        [
            "/usr/local/bin:- 0777 root:root (writable by others)",
            "/etc/sudoers.d:- 0775 root:root (writable by its group)"
        ]
    );
    let f = &findings(&r, "sbp-system-dirs")[0];
    assert_eq!(f["severity"], "High");
    assert_eq!(f["numeric_severity"], 9.0);
    assert_eq!(f["id"], "Configure permissions for system directories");
    assert!(f["title"].as_str().unwrap().starts_with("Image "));
    // The two rules that hold on this image pass, so seven findings in all.
    assert_eq!(r["findings"].as_array().unwrap().len(), 7);
}

#[test]
fn debian_clean_reports_none_of_them_and_says_why_each_passed() {
    let img = fixture("debian-clean");
    let r = coldscan_json(&[
        "scan",
        s(&img),
        "--packages",
        "security-best-practices",
        "--full",
    ]);
    assert_eq!(
        r["findings"].as_array().unwrap().len(),
        0,
        "{:#}",
        r["findings"]
    );
    let passed = r["passed"].as_array().unwrap();
    assert_eq!(passed.len(), 9);
    let ev =
        |id: &str| -> Vec<String> { evidence(passed.iter().find(|p| p["rule_id"] == id).unwrap()) };
    assert_eq!(
        ev("sbp-ssh-root-login"),
        ["/etc/ssh/sshd_config.d/50-hardening.conf:1 permitrootlogin no"]
    );
    assert_eq!(
        ev("sbp-password-min-length"),
        ["/etc/security/pwquality.conf:1 minlen=14"]
    );
    assert_eq!(
        ev("sbp-aslr"),
        ["/etc/sysctl.d/50-hardening.conf:1 kernel.randomize_va_space = 2"]
    );
}

#[test]
fn cis_debian12_runs_on_debian_and_reports_sections() {
    let img = fixture("debian-weak");
    let r = coldscan_json(&["scan", s(&img), "--packages", "cis"]);
    let cis = &r["rules_packages"][0];
    assert_eq!(cis["id"], "cis");
    assert!(cis["rules_evaluated"].as_u64().unwrap() >= 150, "{cis:#}");
    // Only the Debian 12 benchmark applies.
    for f in r["findings"].as_array().unwrap() {
        assert!(
            f["rule_id"].as_str().unwrap().starts_with("cis-debian12-"),
            "{f:#}"
        );
        let section = f["references"]["cis_section"].as_str().unwrap();
        assert!(f["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{section} ")));
        assert!(f["title"]
            .as_str()
            .unwrap()
            .contains("CIS Debian Linux 12 Benchmark"));
        let sev = f["severity"].as_str().unwrap();
        let scored = f["references"]["scored"].as_bool().unwrap();
        assert_eq!(sev, if scored { "High" } else { "Informational" }, "{f:#}");
    }
    // The sshd drop-in is the evidence for the CIS root-login section too.
    let root_login: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["references"]["ssg"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "sshd_disable_root_login"))
        })
        .collect();
    assert_eq!(root_login.len(), 1);
    assert!(evidence(root_login[0])[0].starts_with("/etc/ssh/sshd_config.d/50-weak.conf:"));
    // Rules that need the running machine are exclusions, never passes.
    let needs_running = r["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["reason"] == "needs a running system")
        .count();
    assert!(needs_running > 0);
}

#[test]
fn cis_rhel9_applies_to_almalinux() {
    let img = fixture("alma9-rpm");
    let r = coldscan_json(&["scan", s(&img), "--packages", "cis", "--full"]);
    assert!(r["rules_packages"][0]["rules_evaluated"].as_u64().unwrap() >= 150);
    let ours = |list: &str| {
        r[list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["rule_id"].as_str().unwrap().starts_with("cis-rhel9-"))
            .count()
    };
    assert!(ours("findings") + ours("passed") >= 150);
    // Other benchmarks are listed as other-platform exclusions in a full report.
    assert!(r["exclusions"].as_array().unwrap().iter().any(|x| {
        x["rule_id"]
            .as_str()
            .unwrap_or("")
            .starts_with("cis-debian12-")
            && x["reason"]
                .as_str()
                .unwrap()
                .starts_with("not for this platform")
    }));
}

#[test]
fn security_best_practices_are_linux_only() {
    let img = fixture("ntfs-pe");
    let r = coldscan_json(&["scan", s(&img), "--packages", "security-best-practices"]);
    assert_eq!(r["findings"].as_array().unwrap().len(), 0);
    let ex = r["exclusions"].as_array().unwrap();
    assert_eq!(ex.len(), 1, "{ex:#?}");
    assert_eq!(ex[0]["kind"], "package");
    assert_eq!(
        ex[0]["reason"],
        "Security Best Practices apply to Linux only"
    );
}

#[test]
fn evaluate_of_saved_telemetry_matches_scan() {
    let img = fixture("debian-weak");
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("t.json");
    let out = coldscan(&["collect", s(&img), "-o", s(&doc)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = ["--packages", "cis,security-best-practices", "--full"];
    let mut scan = vec!["scan", s(&img)];
    scan.extend(args);
    let mut eval = vec!["evaluate", s(&doc)];
    eval.extend(args);
    let a = coldscan_json(&scan);
    let b = coldscan_json(&eval);
    for list in ["findings", "passed", "exclusions"] {
        let key = |r: &Value| -> Vec<(String, Vec<String>)> {
            r[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    let ev = x.get("evidence").map(evidence).unwrap_or_default();
                    (x["rule_id"].to_string(), ev)
                })
                .collect()
        };
        assert_eq!(key(&a), key(&b), "{list}");
    }
    assert_eq!(b["assets"][0]["telemetry"], s(&doc));
}

#[test]
fn user_attributes_exit_codes_and_several_images() {
    let weak = fixture("debian-weak");
    let clean = fixture("debian-clean");
    let out = coldscan(&[
        "scan",
        s(&weak),
        s(&clean),
        "--packages",
        "security-best-practices",
        "--attribute",
        "team=blue",
        "--fail-on",
        "High",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["assets"].as_array().unwrap().len(), 2);
    for f in r["findings"].as_array().unwrap() {
        assert_eq!(f["asset"], s(&weak));
        assert_eq!(f["user_attributes"][0]["key"], "team");
        assert_eq!(f["user_attributes"][0]["value"], "blue");
    }
    let out = coldscan(&[
        "scan",
        s(&clean),
        "--packages",
        "security-best-practices",
        "--fail-on",
        "Low",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // A missing image: the others are still reported, exit 2.
    let out = coldscan(&[
        "scan",
        s(&clean),
        "/nonexistent.img",
        "--packages",
        "security-best-practices",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["assets"].as_array().unwrap().len(), 2);
    assert!(r["assets"][1]["error"].is_string());
    // Bad options.
    for bad in [
        vec!["--packages", "nope"],
        vec!["--attribute", "novalue"],
        vec!["--fail-on", "Severe"],
    ] {
        let mut args = vec!["scan", s(&clean)];
        args.extend(bad.iter().copied());
        let out = coldscan(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn rulepack_errors_name_file_rule_and_field() {
    let img = fixture("debian-clean");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown kind",
            "check = { kind = \"sshd_option\", key = \"x\", op = \"equals\", value = \"no\" }",
            "field `check.kind`: unknown check kind \"sshd_option\"",
        ),
        (
            "bad severity",
            "severity = \"Critical\"\ncheck = { kind = \"sshd\", key = \"x\", op = \"equals\", value = \"no\" }",
            "field `severity`",
        ),
        (
            "unknown field",
            "check = { kind = \"sysctl\", key = \"x\", op = \"equals\", vlaue = \"1\" }",
            "field `check.vlaue`: not a field of check kind \"sysctl\"",
        ),
        (
            "bad regex example",
            "check = { kind = \"file_content\", path = \"/etc/issue\", pattern = '^a', expect = \"match\", example = \"b\" }",
            "field `check.example`",
        ),
    ];
    for (what, body, expected) in cases {
        let severity = if body.contains("severity") {
            ""
        } else {
            "severity = \"Low\"\n"
        };
        let text = format!(
            "[package]\npackage = \"cis\"\nname = \"test\"\n\n[[rule]]\nid = \"t-1\"\nname = \"n\"\n{severity}description = \"d\"\nrecommendation = \"r\"\n{body}\n"
        );
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let out = coldscan(&["scan", s(&img), "--rulepack", s(&file)]);
        assert_eq!(out.status.code(), Some(2), "{what}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{}: rule \"t-1\"", file.display())),
            "{what}: {err}"
        );
        assert!(err.contains(expected), "{what}: {err}");
    }
    // Duplicate ids inside one file.
    let rule = "[[rule]]\nid = \"dup\"\nname = \"n\"\nseverity = \"Low\"\ndescription = \"d\"\nrecommendation = \"r\"\ncheck = { kind = \"not_applicable\", reason = \"x\" }\n";
    let file = dir.path().join("dup.toml");
    std::fs::write(
        &file,
        format!("[package]\npackage = \"cis\"\nname = \"t\"\n{rule}{rule}"),
    )
    .unwrap();
    let out = coldscan(&["scan", s(&img), "--rulepack", s(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rule \"dup\": field `id`: duplicate id"));
}

#[test]
fn user_rulepack_overrides_an_embedded_rule() {
    let img = fixture("debian-weak");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "[package]\npackage = \"security-best-practices\"\nname = \"local\"\n\n[[rule]]\nid = \"sbp-aslr\"\nname = \"ASLR (local policy)\"\nseverity = \"Low\"\ndescription = \"d\"\nrecommendation = \"r\"\ncheck = { kind = \"sysctl\", key = \"kernel.randomize_va_space\", op = \"in\", values = [\"0\", \"2\"] }\n",
    )
    .unwrap();
    let r = coldscan_json(&[
        "scan",
        s(&img),
        "--packages",
        "security-best-practices",
        "--rulepack",
        s(&file),
    ]);
    assert!(findings(&r, "sbp-aslr").is_empty());
    assert_eq!(findings(&r, "sbp-ssh-root-login").len(), 1);
}
