//! Which images a rule applies to (selectors described in docs/rules.md).

use crate::collect::os::OsFacts;

/// True if any selector matches the image's OS.
pub fn matches(selectors: &[String], os: &OsFacts) -> bool {
    selectors.is_empty() || selectors.iter().any(|s| selector_matches(s, os))
}

fn selector_matches(selector: &str, os: &OsFacts) -> bool {
    let selector = selector.trim().to_ascii_lowercase();
    if selector == os.family {
        return true;
    }
    if selector == "linux" || selector == "windows" {
        return false;
    }
    let (id, version) = match selector.split_once(':') {
        Some((id, v)) => (id, Some(v)),
        None => (selector.as_str(), None),
    };
    let id_matches = os.id.as_deref() == Some(id) || os.id_like.iter().any(|l| l == id);
    if !id_matches {
        return false;
    }
    match (version, os.version_id.as_deref()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(want), Some(have)) => {
            have == want || (have.starts_with(want) && have[want.len()..].starts_with('.'))
        }
    }
}

/// A short name of the image's OS for messages.
pub fn describe(os: &OsFacts) -> String {
    os.pretty_name
        .clone()
        .or_else(|| {
            os.id
                .as_ref()
                .map(|id| format!("{id} {}", os.version_id.as_deref().unwrap_or("")))
        })
        .unwrap_or_else(|| os.family.clone())
}
