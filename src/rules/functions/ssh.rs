//! SSH protocol version.

use super::Params;
use crate::rules::eval::Context;
use crate::rules::outcome::{Evidence, Outcome};

/// OpenSSH removed protocol 1 from the server in 7.4 (and the `Protocol`
/// keyword is ignored since 7.6); older servers need `Protocol 2`.
pub fn protocol_2_only(_: &Params, ctx: &Context) -> Outcome {
    let Some(sshd) = &ctx.t.config.sshd else {
        return Outcome::not_applicable("the image has no OpenSSH server");
    };
    let version = ctx
        .t
        .config
        .openssh_version
        .clone()
        .or(sshd.openssh_version.clone());
    if let Some(v) = &version {
        if let Some((major, minor)) = upstream_version(v) {
            if (major, minor) >= (7, 4) {
                return Outcome::pass(vec![Evidence::note(format!(
                    "OpenSSH {v}: protocol 1 support was removed in 7.4"
                ))]);
            }
        }
    }
    match sshd.settings.get("protocol").and_then(|v| v.first()) {
        Some(p) if p.value.trim() == "2" => Outcome::pass(vec![Evidence::at(
            &p.file,
            p.line,
            format!("Protocol {}", p.value),
        )]),
        Some(p) => Outcome::fail(vec![Evidence::at(
            &p.file,
            p.line,
            format!("Protocol {}", p.value),
        )]),
        None => Outcome::fail(vec![Evidence::note(format!(
            "OpenSSH {} without `Protocol 2`",
            version.as_deref().unwrap_or("(unknown version)")
        ))]),
    }
}

/// `1:9.2p1-2+deb12u3` → (9, 2); `8.7p1-38.el9` → (8, 7).
fn upstream_version(package_version: &str) -> Option<(u32, u32)> {
    let v = package_version
        .split_once(':')
        .map_or(package_version, |(_, v)| v);
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    #[test]
    fn upstream_versions() {
        assert_eq!(super::upstream_version("1:9.2p1-2+deb12u3"), Some((9, 2)));
        assert_eq!(super::upstream_version("8.7p1-38.el9"), Some((8, 7)));
        assert_eq!(super::upstream_version("7.3p1"), Some((7, 3)));
        assert_eq!(super::upstream_version("p1"), None);
    }
}
