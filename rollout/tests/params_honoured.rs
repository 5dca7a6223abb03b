//! Nothing accepted is ignored: every parameter that a module accepts (drover_roles::MODULES) is
//! read somewhere in the executor. A parameter that the loader accepts but no code reads is a run
//! that reports success and did less than asked; it must be built, or no longer accepted (then
//! it is refused with file:line:col).
//!
//! This reads the executor's source for the parameter's name as a string literal: crude, but it is
//! exactly the mistake it guards against (a name added to the accepted list and never read).

use std::path::Path;

/// Every source file of the executor, concatenated, without their unit tests (a name in a test
/// is not a name the executor reads).
fn executor_source() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push_str(text.split("#[cfg(test)]").next().unwrap_or_default());
            }
        }
    }
    let mut text = String::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut text,
    );
    text
}

/// Parameters honoured without being read, each with the reason.
const HONOURED_AS_IS: &[(&str, &str, &str)] = &[(
    "apt",
    "force_apt_get",
    "drover always runs apt-get, which is what the parameter asks for",
)];

#[test]
fn every_accepted_module_parameter_is_read_by_the_executor() {
    let source = executor_source();
    let mut unread = Vec::new();
    for spec in drover_roles::MODULES {
        for param in spec.params {
            let as_is = HONOURED_AS_IS
                .iter()
                .any(|(m, p, _)| *m == spec.name && p == param);
            if !as_is && !source.contains(&format!("\"{param}\"")) {
                unread.push(format!("{}.{param}", spec.name));
            }
        }
    }
    assert!(
        unread.is_empty(),
        "accepted but never read by the executor: {}",
        unread.join(", ")
    );
}
