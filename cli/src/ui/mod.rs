//! Terminal output: progress on stderr, data on stdout, readable without colour and when piped.

mod activity;
pub mod impact;
mod progress;
mod push;
mod recap;

pub use progress::Progress;
pub use push::PushView;
pub use recap::Recap;

/// Honours NO_COLOR (https://no-color.org) on top of console's own terminal detection.
pub fn init_colors() {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
}

/// Pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// `value` with what a vault decrypted shown as `********` in every string (as ansible-inventory
/// never prints a vaulted value in the clear).
fn hidden(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(drover_vault::hide(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(hidden).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), hidden(v))).collect())
        }
        other => other.clone(),
    }
}

/// JSON laid out as Python's `json.dumps(indent=4)`, so output diffs cleanly against Ansible's;
/// what a vault decrypted is never printed.
pub fn print_json_like_ansible(value: &serde_json::Value) {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    if hidden(value).serialize(&mut ser).is_ok() {
        println!("{}", String::from_utf8_lossy(&out));
    }
}
