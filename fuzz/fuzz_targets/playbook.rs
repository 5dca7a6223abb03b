//! The playbook parser: plays, tasks, blocks, loops, windows, batches. Any input must give a
//! playbook or an error naming where it went wrong.
#![no_main]

use std::path::Path;

use drover_roles::Playbook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Playbook::from_text(Path::new("/nonexistent/drover-fuzz/site.yml"), text, &[]);
    }
});
