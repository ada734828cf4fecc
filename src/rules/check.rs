//! The check kinds a rule can use. Each is implemented once (in
//! `rules/eval/`) and read from a rule file's `check` table, whose `kind`
//! field names the variant. `all`, `any` and `not` combine them.
//! docs/rules.md describes every kind with an example.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// Every sub-check passes.
    All { checks: Vec<Check> },
    /// At least one sub-check passes.
    Any { checks: Vec<Check> },
    /// The sub-check fails.
    Not { check: Box<Check> },
    /// An effective sshd setting (as `sshd -T` prints it; keyword in lower
    /// case). Match blocks that set the keyword are checked too.
    Sshd {
        key: String,
        #[serde(flatten)]
        test: ValueTest,
    },
    /// An argument of a PAM module in named stacks (`/etc/pam.d/<stack>`,
    /// includes expanded). Every listed stack that exists must satisfy it.
    Pam {
        stacks: Vec<String>,
        /// `auth`, `account`, `password`, `session`.
        #[serde(rename = "type")]
        rule_type: String,
        /// Module names without directory (`pam_pwquality.so`); the first
        /// one found in the stack is used.
        modules: Vec<String>,
        /// The argument (`minlen`, `remember`, `try_first_pass`); absent:
        /// the check is that the module is in the stack.
        #[serde(default)]
        option: Option<String>,
        #[serde(flatten)]
        test: ValueTest,
    },
    /// A key of /etc/login.defs.
    LoginDefs {
        key: String,
        #[serde(flatten)]
        test: ValueTest,
    },
    /// A pwquality setting: the `pam_pwquality.so` argument in the
    /// password stack when present, else pwquality.conf(.d).
    Pwquality {
        key: String,
        #[serde(flatten)]
        test: ValueTest,
    },
    /// A sysctl key as the image's boot-time applier would set it.
    Sysctl {
        key: String,
        #[serde(flatten)]
        test: ValueTest,
    },
    /// An argument on the kernel command line of every boot entry.
    KernelCmdline {
        /// The argument name (`audit`, `apparmor`, `noexec`).
        arg: String,
        #[serde(flatten)]
        test: ValueTest,
    },
    /// Mode, owner and group of the files a glob matches.
    File {
        path: String,
        /// No permission bit beyond these (octal, e.g. `"0640"`).
        #[serde(default)]
        max_mode: Option<String>,
        /// Accepted owners (user names or numeric uids).
        #[serde(default)]
        owner: Option<Vec<String>>,
        /// Accepted groups (group names or numeric gids).
        #[serde(default)]
        group: Option<Vec<String>>,
        /// `file`, `dir`, `symlink`: entries of other types are skipped.
        #[serde(default)]
        file_type: Option<String>,
        /// `false`: the glob must match nothing (e.g. /etc/cron.deny);
        /// `true`: it must match something.
        #[serde(default)]
        exists: Option<bool>,
        #[serde(default)]
        when_missing: Missing,
    },
    /// Lines of the files a glob matches, against a regular expression.
    FileContent {
        path: String,
        /// Rust `regex` syntax, applied to each line.
        pattern: String,
        /// `match`: some line of some file matches; `no_match`: no line of
        /// any file matches.
        expect: ContentExpectation,
        /// A real configuration line that `pattern` matches: the tests
        /// check the pattern against it, so a typo cannot go unnoticed.
        example: String,
        /// Default: `fail` for `match` (a setting that must be there is
        /// not), `pass` for `no_match`.
        #[serde(default)]
        when_missing: Option<Missing>,
    },
    /// Some (or none) of the named packages are installed.
    Package {
        names: Vec<String>,
        state: PackageState,
    },
    /// systemd units (`name.service`, `name.socket`, `name.timer`); for
    /// `disabled`, a unit that is not installed counts as disabled.
    Service {
        units: Vec<String>,
        state: ServiceState,
    },
    /// A mount point from the image's fstab (or systemd's implicit mounts
    /// such as /dev/shm).
    Mount {
        mount_point: String,
        /// The mount point is a mount of its own.
        #[serde(default)]
        separate: bool,
        /// Options the mount must carry.
        #[serde(default)]
        options: Vec<String>,
    },
    /// A kernel module cannot be loaded: modprobe.d has `install <m>
    /// /bin/false` (or /bin/true) and `blacklist <m>`, or no kernel in the
    /// image ships it.
    KernelModuleDisabled { module: String },
    /// A rule whose logic is Rust code, registered by name in
    /// `rules/functions/`; `params` are handed to it.
    Function {
        name: String,
        #[serde(default)]
        params: BTreeMap<String, toml::Value>,
    },
    /// The recommendation cannot be judged from an image; the reason is
    /// reported as the exclusion (e.g. "needs a running system").
    NotApplicable { reason: String },
}

/// How a value is compared. `value` or `values` as the operator needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueTest {
    pub op: Op,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// Used when the setting is not configured anywhere (the program's own
    /// default); without it an unset value fails (or passes for `absent`).
    #[serde(default)]
    pub default: Option<String>,
    /// Compare text case-sensitively (default: case-insensitive, as sshd,
    /// login.defs yes/no and PAM flags are).
    #[serde(default)]
    pub case_sensitive: bool,
    /// For `matches`/`not_matches`: a value the pattern matches (checked by
    /// the tests).
    #[serde(default)]
    pub example: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equals,
    NotEquals,
    In,
    NotIn,
    /// Numeric comparisons; a value that is not a number fails.
    Le,
    Ge,
    Lt,
    Gt,
    /// Regular expression on the whole value.
    Matches,
    NotMatches,
    /// Set (to anything) / not set anywhere.
    Present,
    Absent,
    /// For comma-separated lists (sshd Ciphers, MACs, KexAlgorithms):
    /// none of `values` is in the list.
    ListExcludes,
    /// Every one of `values` is in the list.
    ListIncludes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentExpectation {
    Match,
    NoMatch,
}

/// What a file check concludes when its glob matches nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Nothing to check: pass (e.g. permissions of an optional file).
    #[default]
    Pass,
    Fail,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// At least one of the names is installed.
    Installed,
    /// None of the names is installed.
    Absent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Some unit is enabled (wanted by a target or socket).
    Enabled,
    /// No unit is enabled (masked or not installed count as disabled).
    Disabled,
    /// Every unit that is installed is masked.
    Masked,
}

impl Check {
    /// The fields each kind accepts besides `kind`: the loader rejects any
    /// other, since serde's `flatten` cannot deny unknown fields and a
    /// misspelt field would silently change what a rule checks.
    pub fn allowed_fields(kind: &str) -> Option<&'static [&'static str]> {
        Some(match kind {
            "all" | "any" => &["checks"],
            "not" => &["check"],
            "sshd" | "login_defs" | "pwquality" | "sysctl" => &[
                "key",
                "op",
                "value",
                "values",
                "default",
                "case_sensitive",
                "example",
            ],
            "pam" => &[
                "stacks",
                "type",
                "modules",
                "option",
                "op",
                "value",
                "values",
                "default",
                "case_sensitive",
                "example",
            ],
            "kernel_cmdline" => &[
                "arg",
                "op",
                "value",
                "values",
                "default",
                "case_sensitive",
                "example",
            ],
            "file" => &[
                "path",
                "max_mode",
                "owner",
                "group",
                "file_type",
                "exists",
                "when_missing",
            ],
            "file_content" => &["path", "pattern", "expect", "example", "when_missing"],
            "package" => &["names", "state"],
            "service" => &["units", "state"],
            "mount" => &["mount_point", "separate", "options"],
            "kernel_module_disabled" => &["module"],
            "function" => &["name", "params"],
            "not_applicable" => &["reason"],
            _ => return None,
        })
    }
}
