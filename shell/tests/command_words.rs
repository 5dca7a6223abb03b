//! A `command:` task's words reach the program exactly as Ansible's `command` module would pass
//! them (fixtures/command_words.json, written by fixtures/regenerate.py with Python's own shlex and
//! os.path functions), through real shells, and no shell syntax in them ever runs.

use std::path::Path;
use std::process::Command;

use drover_shell::{command_word, split_words};

#[test]
fn command_words_reach_the_program_as_ansible_passes_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("command_words.json")).unwrap())
            .unwrap();
    let env = fixture["env"].as_object().unwrap();
    let shells: Vec<&str> = ["/bin/sh", "/bin/dash", "/bin/bash"]
        .into_iter()
        .filter(|s| Path::new(s).exists())
        .collect();
    assert!(!shells.is_empty());
    let mut failures = Vec::new();
    for case in fixture["results"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let want: Vec<&str> = case["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        let words = split_words(text).unwrap();
        let line: Vec<String> = words.iter().map(|w| command_word(w)).collect();
        // printf stands in for the program: it prints every argument it is given, NUL-terminated.
        let script = format!("printf '%s\\0' {}", line.join(" "));
        for shell in &shells {
            let cwd = tempfile::tempdir().unwrap();
            let out = Command::new(shell)
                .arg("-c")
                .arg(&script)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v.as_str().unwrap())))
                .current_dir(cwd.path())
                .output()
                .unwrap();
            let got = String::from_utf8(out.stdout).unwrap();
            let got: Vec<&str> = got.strip_suffix('\0').unwrap_or(&got).split('\0').collect();
            if got != want || !out.status.success() {
                failures.push(format!(
                    "{shell}: {text:?}\n  script: {script}\n  want {want:?}\n  got  {got:?}"
                ));
            }
            let left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
            assert!(
                left.is_empty(),
                "{shell} created a file for {text:?}: {left:?}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unbalanced_quotes_are_refused_as_python_refuses_them() {
    assert!(split_words("echo 'a").is_err());
    assert!(split_words("echo \"a").is_err());
    assert!(split_words("echo a\\").is_err());
    assert_eq!(split_words("").unwrap(), Vec::<String>::new());
}
