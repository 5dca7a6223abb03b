//! Nothing accepted is ignored: every parameter that a module accepts (drover_roles::MODULES), and
//! every keyword field the loader fills (Task, Play, Role, ...), is read somewhere in the
//! executor. What the loader accepts but no code reads is a run that reports success and did less
//! than asked; it must be built, or no longer accepted (then it is refused with file:line:col).
//!
//! This reads the executor's source for a parameter's name as a string literal, and for a field as
//! `.field`: crude, but it is exactly the mistake it guards against (a name added to the accepted
//! list, or a keyword parsed into a field, and never read).

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

/// Play fields the command line honours before the executor runs (the executor never reads the
/// terminal), with the file that reads them.
const BY_THE_COMMAND_LINE: &[(&str, &str)] = &[
    ("vars_prompt", "../cli/src/vars_prompt.rs"),
    // Read by `handler_answers`, which the executor calls to find a notified handler.
    ("listen", "../roles/src/play.rs"),
    // Read by `LoopSpec::item_vars`, which the executor calls for each item of a loop.
    ("index_var", "../roles/src/task.rs"),
    ("extended", "../roles/src/task.rs"),
    ("extended_allitems", "../roles/src/task.rs"),
    // A dynamic include that could not be read: named by `deferred_includes` in the warning the
    // command line prints at load; at run time the `fail` task it stands for says it.
    ("deferred", "../roles/src/play.rs"),
];

/// Parameters honoured without being read, each with the reason.
const HONOURED_AS_IS: &[(&str, &str, &str)] = &[
    (
        "apt",
        "force_apt_get",
        "drover always runs apt-get, which is what the parameter asks for",
    ),
    (
        "openssl_privatekey",
        "cipher",
        "only `auto` is accepted, and a key with a passphrase is always encrypted with AES-256",
    ),
    (
        "openssl_privatekey",
        "select_crypto_backend",
        "auto and cryptography are accepted; the host's openssl makes the same keys",
    ),
    (
        "openssl_csr",
        "select_crypto_backend",
        "auto and cryptography are accepted; the host's openssl makes the same CSRs",
    ),
    (
        "openssl_csr_pipe",
        "select_crypto_backend",
        "auto and cryptography are accepted; the host's openssl makes the same CSRs",
    ),
    (
        "x509_certificate",
        "select_crypto_backend",
        "auto and cryptography are accepted; the host's openssl makes the same certificates",
    ),
];

#[test]
fn every_accepted_module_parameter_is_read_by_the_executor() {
    let source = executor_source();
    let mut unread = Vec::new();
    for spec in drover_roles::MODULES {
        for param in spec.params.iter().map(|p| p.name) {
            let as_is = HONOURED_AS_IS
                .iter()
                .any(|(m, p, _)| *m == spec.name && *p == param);
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

/// The `pub` fields of `struct NAME` in `source`.
fn fields(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("no struct {name}"));
    let body = &source[start..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub ")?.split_once(':'))
        .map(|(f, _)| f.trim().to_string())
        .filter(|f| !f.contains(' '))
        .collect()
}

/// Whether `source` reads `.field` (not as the start of a longer name).
fn reads(source: &str, field: &str) -> bool {
    let needle = format!(".{field}");
    source.match_indices(&needle).any(|(i, _)| {
        !source[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn every_keyword_the_loader_keeps_is_read_by_the_executor() {
    let executor = executor_source();
    let roles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../roles/src");
    let read = |f: &str| std::fs::read_to_string(roles.join(f)).unwrap();
    let (task, play, role) = (read("task.rs"), read("play.rs"), read("role.rs"));
    // Where a task or play is, its body and search path, a play's hosts and the role's own parts
    // are how the loader hands the playbook over (and are read under other names), and whether a
    // block came from `import_tasks` is acted on by the loader itself (imported handlers answer by
    // their own names); every other field holds a keyword the operator wrote.
    let structure = [
        "at",
        "body",
        "search",
        "path",
        "dependencies",
        "allow_duplicates",
        "included_roles",
        "imported",
    ];
    let mut unread = Vec::new();
    for (text, name) in [
        (&task, "Task"),
        (&task, "LoopSpec"),
        (&task, "Block"),
        (&play, "Play"),
        (&play, "RollcallSpec"),
        (&role, "Role"),
    ] {
        let found = fields(text, name);
        assert!(!found.is_empty(), "no fields found in {name}");
        if name == "Task" {
            // The reader finds the fields it should.
            for known in ["when", "loop_spec", "notify", "no_log", "timeout"] {
                assert!(
                    found.iter().any(|f| f == known),
                    "{known} not found in Task: {found:?}"
                );
            }
            assert!(!reads("x.loop_specs", "loop_spec"));
        }
        for field in found {
            // Honoured by the command line before the executor runs: read there.
            let reader = match BY_THE_COMMAND_LINE.iter().find(|(f, _)| *f == field) {
                Some((_, file)) => {
                    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                        .unwrap()
                }
                None => executor.clone(),
            };
            if !structure.contains(&field.as_str()) && !reads(&reader, &field) {
                unread.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(
        unread.is_empty(),
        "kept by the loader but never read by the executor: {}",
        unread.join(", ")
    );
}
