//! The inventory parsers (YAML and INI, chosen by the first byte) and what is done with a parsed
//! inventory: host patterns, variables, `--list`. Any input must give an inventory or an error.
#![no_main]

use std::path::Path;

use drover_inventory::Inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&format, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let path = if format % 2 == 0 { "hosts.yml" } else { "hosts.ini" };
    if let Ok(inv) = Inventory::from_text(Path::new(path), text) {
        let _ = inv.to_list_json();
        // A range can declare 100,000 hosts; their variables are the same code each time.
        let hosts: Vec<String> = inv.hosts().take(64).map(|h| h.name.clone()).collect();
        for pattern in ["all", "web:&prod", "~w.*", "!db"] {
            let _ = inv.select(pattern, None);
        }
        for host in hosts {
            let _ = inv.template_vars(&host);
        }
    }
});
