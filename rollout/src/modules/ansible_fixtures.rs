//! Replays the cases ansible-core's own modules ran (rollout/tests/fixtures/ansible: cases.json,
//! and expected.json written by regenerate.py there) against drover's pure edits: each step's
//! change and the file after it must be what Ansible's module left.

use serde_json::Value as Json;

use super::Args;

/// Runs every step of `module`'s cases through `step` (the file's text before, the step's
/// parameters; the text after, or None when the file is gone) and holds each result against
/// Ansible's. Returns how many steps were replayed.
pub fn replay(module: &str, mut step: impl FnMut(&str, &Args) -> Option<String>) -> usize {
    let cases: Json = serde_json::from_str(include_str!("../../tests/fixtures/ansible/cases.json"))
        .expect("cases.json");
    let expected: Json =
        serde_json::from_str(include_str!("../../tests/fixtures/ansible/expected.json"))
            .expect("expected.json");
    let mut replayed = 0;
    let wanted = expected["cases"].as_array().expect("cases");
    for (case, want) in cases.as_array().expect("cases").iter().zip(wanted) {
        if case["module"] != module {
            continue;
        }
        let file = case["file"].as_str().expect("file");
        let mut text = case["start"][file].as_str().map(String::from);
        for (params, want) in case["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .zip(want["steps"].as_array().expect("steps"))
        {
            assert!(want.get("failed").is_none(), "Ansible failed: {want}");
            let args = Args(params.as_object().expect("parameters").clone());
            let after = step(text.as_deref().unwrap_or(""), &args);
            let changed = after != text;
            assert_eq!(
                Json::Bool(changed),
                want["changed"],
                "{}: {params}",
                case["name"]
            );
            assert_eq!(
                after
                    .as_deref()
                    .map_or(Json::Null, |t| Json::String(t.into())),
                want["file"],
                "{}: {params}",
                case["name"]
            );
            text = after;
            replayed += 1;
        }
    }
    replayed
}
