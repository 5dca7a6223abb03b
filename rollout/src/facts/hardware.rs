//! The hardware collector: memory, processors, mounts (with their sizes), uptime and DMI, read
//! from /proc and /sys as Ansible's LinuxHardware reads them.

use serde_json::{Map, Value as Json, json};

use super::Fields;

/// Each mount's size comes from `stat -f` under a 10 s `timeout`, as Ansible bounds each mount's
/// statvfs: a hung network filesystem costs 10 s, not the run.
pub(super) const COMMAND: &str = r#"[ -r /proc/meminfo ] && awk '/^(MemTotal|MemFree|SwapTotal|SwapFree|Buffers|Cached|SwapCached):/{print "mem=" $1 $2}' /proc/meminfo
[ -r /proc/cpuinfo ] && awk -F: '{k=$1; sub(/[ \t]+$/, "", k)} k=="flags"{fl=$2; next} k~/^(model name|Processor|vendor_id|cpu|Vendor|processor|physical id|core id|cpu cores|siblings)$/{v=$2; sub(/^[ \t]+/, "", v); print "cpu=" k "\t" v} END{sub(/^[ \t]+/, "", fl); print "cpuflags=" fl}' /proc/cpuinfo
{ [ -e /proc/xen ] || [ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ]; } && echo xen=1
echo "nproc=$(nproc 2>/dev/null)"; [ -r /proc/uptime ] && echo "uptime=$(cat /proc/uptime)"
[ -e /sys/devices/virtual/dmi/id/product_name ] && echo dmi=1 && grep -s -H '' /sys/devices/virtual/dmi/id/bios_date /sys/devices/virtual/dmi/id/bios_vendor /sys/devices/virtual/dmi/id/bios_version /sys/devices/virtual/dmi/id/board_asset_tag /sys/devices/virtual/dmi/id/board_name /sys/devices/virtual/dmi/id/board_serial /sys/devices/virtual/dmi/id/board_vendor /sys/devices/virtual/dmi/id/board_version /sys/devices/virtual/dmi/id/chassis_asset_tag /sys/devices/virtual/dmi/id/chassis_serial /sys/devices/virtual/dmi/id/chassis_vendor /sys/devices/virtual/dmi/id/chassis_version /sys/devices/virtual/dmi/id/chassis_type /sys/devices/virtual/dmi/id/product_name /sys/devices/virtual/dmi/id/product_serial /sys/devices/virtual/dmi/id/product_uuid /sys/devices/virtual/dmi/id/product_version /sys/devices/virtual/dmi/id/sys_vendor | sed 's/^/dmifile=/'
command -v findmnt >/dev/null 2>&1 && findmnt --list --noheadings --notruncate 2>/dev/null | awk '$2 ~ /\]$/ {print "bind=" $1}'
command -v lsblk >/dev/null 2>&1 && lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null | awk 'NF==2 {print "uuid=" $1 " " $2}'
m=/etc/mtab; [ -e $m ] || m=/proc/mounts
while read -r dev mnt fs opts dump pass rest; do case "$dev" in /*|\\*|*:/*) ;; *) continue;; esac; [ "$fs" = none ] && continue; s=$(timeout 10 stat -f -c '%S %s %b %a %f %c %d' "$(printf '%b' "$mnt")" 2>/dev/null); printf 'mount=%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dev" "$mnt" "$fs" "$opts" "$dump" "$pass" "$s"; done < $m"#;

/// SMBIOS chassis types, as Ansible names them.
const FORM_FACTOR: [&str; 37] = [
    "Unknown",
    "Other",
    "Unknown",
    "Desktop",
    "Low Profile Desktop",
    "Pizza Box",
    "Mini Tower",
    "Tower",
    "Portable",
    "Laptop",
    "Notebook",
    "Hand Held",
    "Docking Station",
    "All In One",
    "Sub Notebook",
    "Space-saving",
    "Lunch Box",
    "Main Server Chassis",
    "Expansion Chassis",
    "Sub Chassis",
    "Bus Expansion Chassis",
    "Peripheral Chassis",
    "RAID Chassis",
    "Rack Mount Chassis",
    "Sealed-case PC",
    "Multi-system",
    "CompactPCI",
    "AdvancedTCA",
    "Blade",
    "Blade Enclosure",
    "Tablet",
    "Convertible",
    "Detachable",
    "IoT Gateway",
    "Embedded PC",
    "Mini PC",
    "Stick PC",
];

/// The DMI facts and the file each is read from.
const DMI: [(&str, &str); 18] = [
    ("bios_date", "bios_date"),
    ("bios_vendor", "bios_vendor"),
    ("bios_version", "bios_version"),
    ("board_asset_tag", "board_asset_tag"),
    ("board_name", "board_name"),
    ("board_serial", "board_serial"),
    ("board_vendor", "board_vendor"),
    ("board_version", "board_version"),
    ("chassis_asset_tag", "chassis_asset_tag"),
    ("chassis_serial", "chassis_serial"),
    ("chassis_vendor", "chassis_vendor"),
    ("chassis_version", "chassis_version"),
    ("form_factor", "chassis_type"),
    ("product_name", "product_name"),
    ("product_serial", "product_serial"),
    ("product_uuid", "product_uuid"),
    ("product_version", "product_version"),
    ("system_vendor", "sys_vendor"),
];

pub(super) fn parse(f: &Fields, facts: &mut Map<String, Json>) {
    memory(f, facts);
    processors(f, facts);
    if let Some(up) = f.get("uptime").split(' ').next()
        && let Ok(seconds) = up.parse::<f64>()
    {
        facts.insert("uptime_seconds".into(), json!(seconds as u64));
    }
    dmi(f, facts);
    facts.insert("mounts".into(), Json::Array(mounts(f)));
}

/// MB facts (whole MB, rounded down, each figure apart) and `ansible_memory_mb`.
fn memory(f: &Fields, facts: &mut Map<String, Json>) {
    let kb = |key: &str| {
        f.all("mem")
            .find_map(|l| {
                l.strip_prefix(key)?
                    .strip_prefix(':')?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|k| k / 1024)
    };
    let (total, free, swap_total, swap_free) = (
        kb("MemTotal"),
        kb("MemFree"),
        kb("SwapTotal"),
        kb("SwapFree"),
    );
    for (name, v) in [
        ("memtotal_mb", total),
        ("memfree_mb", free),
        ("swaptotal_mb", swap_total),
        ("swapfree_mb", swap_free),
    ] {
        if let Some(v) = v {
            facts.insert(name.into(), json!(v));
        }
    }
    let nocache_free = match (kb("Cached"), free, kb("Buffers")) {
        (Some(c), Some(f), Some(b)) => Some(c + f + b),
        _ => None,
    };
    let minus = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
    facts.insert(
        "memory_mb".into(),
        json!({
            "real": {"total": total, "used": minus(total, free), "free": free},
            "nocache": {"free": nocache_free, "used": minus(total, nocache_free)},
            "swap": {"total": swap_total, "free": swap_free, "used": minus(swap_total, swap_free), "cached": kb("SwapCached")},
        }),
    );
}

/// Processor facts, counted as Ansible's get_cpu_facts counts them (x86 and ARM; Xen
/// paravirtualised guests count each processor as a socket).
fn processors(f: &Fields, facts: &mut Map<String, Json>) {
    if !f.has("cpuflags") {
        return;
    }
    let mut list = Vec::new();
    let (mut vendor_ids, mut model_names, mut processors, mut listed) = (0u64, 0u64, 0u64, 0u64);
    let mut sockets: Vec<(String, u64)> = Vec::new();
    let mut cores: Vec<(String, u64)> = Vec::new();
    let (mut physid, mut coreid) = (String::from("0"), String::from("0"));
    let set = |v: &mut Vec<(String, u64)>, k: &str, n: u64| match v.iter_mut().find(|(x, _)| x == k)
    {
        Some(e) => e.1 = n,
        None => v.push((k.to_string(), n)),
    };
    for line in f.all("cpu") {
        let Some((key, val)) = line.split_once('\t') else {
            continue;
        };
        match key {
            "physical id" => {
                physid = val.to_string();
                if !sockets.iter().any(|(k, _)| k == val) {
                    sockets.push((val.to_string(), 1));
                }
            }
            "core id" => {
                coreid = val.to_string();
                // Ansible tests the sockets' table here, not the cores' (kept for equal counts).
                if !sockets.iter().any(|(k, _)| k == val) {
                    set(&mut cores, val, 1);
                }
            }
            "cpu cores" => set(&mut sockets, &physid, val.parse().unwrap_or(0)),
            "siblings" => set(&mut cores, &coreid, val.parse().unwrap_or(0)),
            _ => {
                list.push(json!(val));
                listed += 1;
                match key {
                    "vendor_id" => vendor_ids += 1,
                    "model name" => model_names += 1,
                    "processor" => processors += 1,
                    _ => {}
                }
            }
        }
    }
    let mut count = listed;
    if vendor_ids > 0 && vendor_ids == model_names {
        count = vendor_ids;
    }
    if ["armv", "aarch", "ppc"]
        .iter()
        .any(|a| f.get("arch").starts_with(a))
    {
        count = processors;
    }
    let flags: Vec<&str> = f.get("cpuflags").split_whitespace().collect();
    facts.insert("processor".into(), json!(list));
    facts.insert("flags".into(), json!(flags));
    let xen_paravirt = f.has("xen") && !flags.contains(&"vme");
    let (n_sockets, n_cores, threads) = if xen_paravirt {
        (count, count, 1)
    } else {
        let n_sockets = if sockets.is_empty() {
            count
        } else {
            sockets.len() as u64
        };
        let n_cores = sockets.first().map(|s| s.1).filter(|c| *c > 0).unwrap_or(1);
        let threads = cores.first().map_or(1, |c| c.1) as f64 / n_cores as f64;
        (n_sockets, n_cores, threads.round_ties_even() as u64)
    };
    facts.insert("processor_count".into(), json!(n_sockets));
    facts.insert("processor_cores".into(), json!(n_cores));
    facts.insert("processor_threads_per_core".into(), json!(threads));
    facts.insert(
        "processor_vcpus".into(),
        json!(if xen_paravirt {
            count
        } else {
            threads * n_sockets * n_cores
        }),
    );
    let nproc = f.get("nproc").parse::<u64>().unwrap_or(processors);
    facts.insert("processor_nproc".into(), json!(nproc));
}

/// DMI facts from /sys ("NA" where a file is missing, empty or unreadable).
fn dmi(f: &Fields, facts: &mut Map<String, Json>) {
    let read = |file: &str| {
        f.file("dmifile", &format!("/sys/devices/virtual/dmi/id/{file}"))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    for (fact, file) in DMI {
        let value = match (fact, read(file)) {
            (_, None) => "NA".to_string(),
            ("form_factor", Some(n)) => {
                match n.parse::<usize>().ok().and_then(|i| FORM_FACTOR.get(i)) {
                    Some(name) => name.to_string(),
                    None => format!("unknown ({n})"),
                }
            }
            (_, Some(v)) => v.to_string(),
        };
        facts.insert(fact.into(), json!(value));
    }
}

/// `\NNN` octal escapes of /proc/mounts fields turned back into their characters.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let n = d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0'));
                out.push((n & 0xff) as u8);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `ansible_mounts`: block devices and network filesystems, bind mounts marked, with the sizes
/// statvfs gives and the device's UUID from lsblk ("N/A" when it has none).
fn mounts(f: &Fields) -> Vec<Json> {
    let binds: Vec<&str> = f.all("bind").map(str::trim).collect();
    let uuid = |dev: &str| {
        f.all("uuid")
            .find_map(|l| l.strip_prefix(dev)?.strip_prefix(' '))
            .map_or("N/A", str::trim)
    };
    let mut out = Vec::new();
    for line in f.all("mount") {
        let fields: Vec<&str> = line.split('\t').collect();
        let [dev, mnt, fs, opts, dump, pass, stat] = fields[..] else {
            continue;
        };
        let (dev, mnt, mut opts) = (unescape(dev), unescape(mnt), unescape(opts));
        if binds.contains(&mnt.as_str()) {
            opts.push_str(",bind");
        }
        let mut m = json!({
            "mount": mnt, "device": dev, "fstype": fs, "options": opts,
            "dump": dump.parse::<i64>().unwrap_or(0), "passno": pass.parse::<i64>().unwrap_or(0),
            "uuid": uuid(&dev),
        });
        let n: Vec<u64> = stat.split(' ').filter_map(|x| x.parse().ok()).collect();
        if let [frsize, bsize, blocks, avail, _free, files, ffree] = n[..] {
            let sizes = json!({
                "size_total": frsize * blocks, "size_available": frsize * avail,
                "block_size": bsize, "block_total": blocks, "block_available": avail,
                "block_used": blocks.saturating_sub(avail),
                "inode_total": files, "inode_available": ffree,
                "inode_used": files.saturating_sub(ffree),
            });
            if let (Json::Object(m), Json::Object(s)) = (&mut m, sizes) {
                m.extend(s);
            }
        }
        out.push(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_fields_are_unescaped() {
        assert_eq!(unescape(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(unescape(r"/a\\b"), r"/a\\b");
    }

    #[test]
    fn processors_are_counted_as_ansible_counts_them() {
        let out = "cpu=processor\t0\ncpu=vendor_id\tGenuineIntel\ncpu=model name\tXeon\ncpu=physical id\t0\ncpu=siblings\t4\ncpu=core id\t0\ncpu=cpu cores\t2\ncpu=processor\t1\ncpu=vendor_id\tGenuineIntel\ncpu=model name\tXeon\ncpu=physical id\t0\ncpu=siblings\t4\ncpu=core id\t1\ncpu=cpu cores\t2\ncpuflags=fpu vme\nnproc=4\n";
        let f = Fields(out.lines().filter_map(|l| l.split_once('=')).collect());
        let mut facts = Map::new();
        processors(&f, &mut facts);
        assert_eq!(facts["processor_count"], 1);
        assert_eq!(facts["processor_cores"], 2);
        assert_eq!(facts["processor_threads_per_core"], 2);
        assert_eq!(facts["processor_vcpus"], 4);
        assert_eq!(
            facts["processor"],
            json!(["0", "GenuineIntel", "Xeon", "1", "GenuineIntel", "Xeon"])
        );
    }
}
