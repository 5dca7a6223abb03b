//! The compose template linter and fixer. Any input must lint to findings or an error, and a fix
//! must leave text that lints clean or is refused.
#![no_main]

use std::path::Path;

use drover_compose::{Options, fix, lint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("docker-compose.yml.j2");
    let opts = Options::default();
    if lint(path, text, &opts).is_ok()
        && let Ok(fixed) = fix(path, text, &opts)
    {
        let after = lint(path, &fixed.text, &opts).expect("fixed text parses");
        assert!(
            after.iter().all(|f| f.fix.is_none()),
            "a fix left something to fix: {after:?}"
        );
    }
});
