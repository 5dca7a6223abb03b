//! nmcli: NetworkManager connection profiles, as community.general.nmcli keeps them. The task's
//! settings become NetworkManager's own (`ipv4.addresses`, `connection.autoconnect`, ...) with the
//! module's defaults; an existing profile is read setting by setting (`nmcli -g`) and modified only
//! when one differs (lists compared as sets, MAC addresses without case, as the module compares
//! them), so a second run reports ok. `state: up`/`down` also activate or deactivate the profile
//! when it is not already so. One round trip: a script that prints what it found and `changed`.

use drover_ssh::shell::quote;
use serde_json::json;

use super::files::unified;
use super::{Args, ModuleCtx, Outcome};

/// What the task wants of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Absent,
    /// Present, and active.
    Up,
    /// Inactive (the profile must exist).
    Down,
}

/// A setting's wanted value: one word, or a list given to nmcli joined with commas.
#[derive(Debug, Clone, PartialEq)]
pub enum Wanted {
    One(String),
    List(Vec<String>),
}

impl Wanted {
    /// The value as nmcli takes it.
    fn arg(&self) -> String {
        match self {
            Wanted::One(v) => v.clone(),
            Wanted::List(items) => items.join(","),
        }
    }

    /// The value as the script's `norm` prints what nmcli reports: items sorted, each followed by
    /// a comma.
    fn normal(&self) -> String {
        let mut items: Vec<String> = match self {
            Wanted::One(v) => vec![v.clone()],
            Wanted::List(items) => items.clone(),
        };
        items.sort();
        items.iter().map(|i| format!("{i},")).collect()
    }
}

/// One NetworkManager setting of the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: &'static str,
    pub value: Wanted,
    /// Compared with the profile's (as the module compares); otherwise only given to nmcli: the
    /// module clears list settings the task leaves out, without comparing them.
    pub compared: bool,
}

/// The connection types drover makes; the module's others (team, wifi, vxlan, tunnels, ...) are
/// refused.
const TYPES: &[&str] = &[
    "ethernet",
    "dummy",
    "bridge",
    "bridge-slave",
    "bond",
    "bond-slave",
    "vlan",
    "generic",
];

/// Types that carry IP settings (unless they have a master).
const IP_TYPES: &[&str] = &["ethernet", "dummy", "bridge", "bond", "vlan", "generic"];

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub conn_name: String,
    pub state: State,
    /// Required to create a profile.
    pub kind: Option<String>,
    /// `connection.interface-name` for a new profile (the task's `ifname`, else the name).
    pub create_ifname: String,
    pub settings: Vec<Setting>,
}

fn bool_word(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// Reads the task's arguments the way the module's `connection_options` does.
struct Reader<'a> {
    args: &'a Args,
    settings: Vec<Setting>,
}

impl Reader<'_> {
    fn one(&mut self, key: &'static str, value: Option<String>) {
        if let Some(v) = value {
            self.settings.push(Setting {
                key,
                value: Wanted::One(v),
                compared: true,
            });
        }
    }

    fn text(&mut self, key: &'static str, param: &str) {
        let v = self.args.str(param);
        self.one(key, v);
    }

    fn flag(&mut self, key: &'static str, param: &str, default: bool) {
        let v = self.args.bool(param).unwrap_or(default);
        self.one(key, Some(bool_word(v)));
    }

    fn number(&mut self, key: &'static str, param: &str, default: Option<i64>) {
        let v = self.args.num(param).map(|n| n as i64).or(default);
        self.one(key, v.map(|n| n.to_string()));
    }

    /// A list setting: compared when given, cleared when not (as the module does).
    fn list(&mut self, key: &'static str, param: &str) {
        let items = self.args.list(param);
        self.settings.push(Setting {
            key,
            compared: !items.is_empty(),
            value: Wanted::List(items),
        });
    }
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let conn_name = args
            .str("conn_name")
            .ok_or("nmcli needs `conn_name`: the profile's name")?;
        let state = match args.str("state").as_deref() {
            Some("present") => State::Present,
            Some("absent") => State::Absent,
            Some("up") => State::Up,
            Some("down") => State::Down,
            Some(other) => {
                return Err(format!(
                    "nmcli: `state: {other}` is not present, absent, up or down"
                ));
            }
            None => return Err("nmcli needs `state`: present, absent, up or down".into()),
        };
        let kind = args.str("type");
        let t = kind.as_deref().unwrap_or("");
        if !t.is_empty() && !TYPES.contains(&t) {
            return Err(format!(
                "nmcli: `type: {t}` is not one drover makes ({}); team, wifi, tunnels and the others are not supported",
                TYPES.join(", ")
            ));
        }
        let master = args.str("master");
        if t.ends_with("-slave") && master.is_none() {
            return Err(format!(
                "nmcli: `type: {t}` needs `master`, the profile or interface it belongs to"
            ));
        }
        let mut r = Reader {
            args,
            settings: Vec::new(),
        };
        r.text("connection.interface-name", "ifname");
        r.flag("connection.autoconnect", "autoconnect", true);
        r.text("connection.zone", "zone");
        if IP_TYPES.contains(&t) && master.is_none() {
            ip_settings(&mut r, t)?;
        }
        if let Some(mac) = args.str("mac") {
            let key = if t == "bridge" {
                "bridge.mac-address"
            } else {
                "802-3-ethernet.cloned-mac-address"
            };
            r.one(key, Some(mac.to_uppercase()));
        }
        if args.num("mtu").is_some() {
            if !matches!(t, "ethernet" | "dummy") {
                return Err(format!(
                    "nmcli: `mtu` is set on ethernet and dummy profiles, not on `type: {t}`"
                ));
            }
            r.number("802-3-ethernet.mtu", "mtu", None);
        }
        if t.ends_with("-slave") {
            r.one("connection.master", master);
        }
        match t {
            "bond" => {
                r.one(
                    "mode",
                    Some(args.str("mode").unwrap_or("balance-rr".into())),
                );
                for (key, param) in [
                    ("miimon", "miimon"),
                    ("downdelay", "downdelay"),
                    ("updelay", "updelay"),
                ] {
                    r.number(key, param, None);
                }
                r.text("primary", "primary");
            }
            "bond-slave" => r.one("connection.slave-type", Some("bond".into())),
            "bridge" => {
                r.number("bridge.ageing-time", "ageingtime", Some(300));
                r.number("bridge.forward-delay", "forwarddelay", Some(15));
                r.number("bridge.hello-time", "hellotime", Some(2));
                r.number("bridge.max-age", "maxage", Some(20));
                r.number("bridge.priority", "priority", Some(128));
                r.flag("bridge.stp", "stp", true);
            }
            "bridge-slave" => {
                r.one("connection.slave-type", Some("bridge".into()));
                r.number("bridge-port.path-cost", "path_cost", Some(100));
                r.flag("bridge-port.hairpin-mode", "hairpin", false);
                r.number("bridge-port.priority", "slavepriority", Some(32));
            }
            "vlan" => {
                r.number("vlan.id", "vlanid", None);
                r.text("vlan.parent", "vlandev");
            }
            _ => {}
        }
        if state != State::Absent && state != State::Down && kind.is_none() {
            // Needed only to create; refused at once so a typo is not found on the first new host.
            return Err("nmcli needs `type` with `state: present` or `up`".into());
        }
        Ok(Spec {
            create_ifname: args.str("ifname").unwrap_or_else(|| conn_name.clone()),
            conn_name,
            state,
            kind,
            settings: r.settings,
        })
    }

    /// The script. It prints `was:KEY=VALUE` for each compared setting of an existing profile and
    /// `changed` when it changed (or, in check mode, would change) something.
    pub fn command(&self, check: bool) -> String {
        let mut s = String::from(
            "command -v nmcli >/dev/null || { echo 'this host has no nmcli: install network-manager first' >&2; exit 1; }; \
             export LC_ALL=C; ",
        );
        s.push_str(&format!(
            "n={}; exists() {{ nmcli -g NAME connection show | grep -qxF -- {}; }}; \
             active() {{ case \"$(nmcli -g GENERAL.STATE connection show \"$n\" 2>/dev/null)\" in activated|activating) ;; *) return 1;; esac; }}; ",
            quote(&self.conn_name),
            quote(&terse(&self.conn_name))
        ));
        let act = |cmd: &str| {
            if check {
                "echo changed".to_string()
            } else {
                format!("{cmd} >&2 || exit 1; echo changed")
            }
        };
        match self.state {
            State::Absent => s.push_str(&format!(
                "if exists; then {}; fi",
                act("nmcli connection delete \"$n\"")
            )),
            State::Down => s.push_str(&format!(
                "exists || {{ echo \"no connection named $n exists\" >&2; exit 1; }}; if active; then {}; fi",
                act("nmcli connection down \"$n\"")
            )),
            State::Present | State::Up => {
                s.push_str(&self.present(&act));
                if self.state == State::Up {
                    // In check mode a profile about to be made is not there to ask.
                    let up = act("nmcli connection up \"$n\"");
                    s.push_str(&format!(
                        "; if {}! active; then {up}; fi",
                        if check { "exists && " } else { "" }
                    ));
                }
            }
        }
        s
    }

    /// ` KEY VALUE` for each setting, for `nmcli connection add` (which names the interface
    /// itself) or `modify`.
    fn args(&self, adding: bool) -> String {
        self.settings
            .iter()
            .filter(|st| !(adding && st.key == "connection.interface-name"))
            .map(|st| format!(" {} {}", st.key, quote(&st.value.arg())))
            .collect()
    }

    fn present(&self, act: &dyn Fn(&str) -> String) -> String {
        let mut compare = String::from(
            "norm() { printf '%s\\n' \"$1\" | tr ',' '\\n' | sed 's/\\\\:/:/g; s/^ *//; s/ *$//' | sort | tr '\\n' ','; }; d=; ",
        );
        for st in self.settings.iter().filter(|st| st.compared) {
            let current = if bond_option(st.key) {
                // The module reads bond options out of `bond.options` (`mode=...,miimon=...`).
                format!(
                    "$(nmcli -g bond.options connection show \"$n\" 2>/dev/null | tr ',' '\\n' | sed -n 's/^{}=//p')",
                    st.key
                )
            } else {
                format!("$(nmcli -g {} connection show \"$n\" 2>/dev/null)", st.key)
            };
            let mut want = st.value.normal();
            let mut got = "$(norm \"$c\")".to_string();
            if st.key.ends_with("mac-address") {
                got = "$(norm \"$c\" | tr a-f A-F)".into();
                want = want.to_uppercase();
            }
            compare.push_str(&format!(
                "c={current}; printf 'was:{key}=%s\\n' \"$c\"; [ \"{got}\" = {want} ] || d=1; ",
                key = st.key,
                want = quote(&want)
            ));
        }
        let kind = self.kind.as_deref().unwrap_or("");
        format!(
            "if exists; then {compare}if [ -n \"$d\" ]; then {}; fi; else {}; fi",
            act(&format!(
                "nmcli connection modify \"$n\"{}",
                self.args(false)
            )),
            act(&format!(
                "nmcli connection add type {} con-name \"$n\" connection.interface-name {}{}",
                quote(kind),
                quote(&self.create_ifname),
                self.args(true)
            ))
        )
    }

    /// The settings before (as the script reported them) and after, one `key: value` line each,
    /// for `--diff`.
    fn diff(&self, report: &str) -> Option<String> {
        let mut before = String::new();
        let mut after = String::new();
        for st in self.settings.iter().filter(|st| st.compared) {
            let was = report
                .lines()
                .find_map(|l| l.strip_prefix(&format!("was:{}=", st.key)));
            if let Some(was) = was {
                before.push_str(&format!("{}: {was}\n", st.key));
            }
            after.push_str(&format!("{}: {}\n", st.key, st.value.arg()));
        }
        let path = format!("nmcli connection {}", self.conn_name);
        (before != after).then(|| unified(&path, before.as_bytes(), after.as_bytes()))
    }
}

/// The IP settings of a profile without a master, with the module's defaults.
fn ip_settings(r: &mut Reader<'_>, kind: &str) -> Result<(), String> {
    let needs_method = |ip: bool, method: Option<String>| match method {
        Some(m) => Some(m),
        None if kind == "dummy" && !ip => Some("disabled".to_string()),
        None if ip => Some("manual".to_string()),
        None => None,
    };
    let ip4 = r.args.list("ip4");
    let ip6 = r.args.list("ip6");
    if let Some(bad) = ip4.iter().find(|a| !a.contains('/')) {
        return Err(format!(
            "nmcli: `ip4: {bad}` needs its prefix length, such as {bad}/24"
        ));
    }
    r.list("ipv4.addresses", "ip4");
    r.text("ipv4.gateway", "gw4");
    r.list("ipv4.dns", "dns4");
    r.list("ipv4.dns-search", "dns4_search");
    r.flag("ipv4.ignore-auto-dns", "dns4_ignore_auto", false);
    r.flag("ipv4.ignore-auto-routes", "gw4_ignore_auto", false);
    r.number("ipv4.route-metric", "route_metric4", None);
    r.flag("ipv4.never-default", "never_default4", false);
    let m4 = needs_method(!ip4.is_empty(), r.args.str("method4"));
    r.one("ipv4.method", m4);
    r.flag("ipv4.may-fail", "may_fail4", true);
    r.list("ipv6.addresses", "ip6");
    r.text("ipv6.gateway", "gw6");
    r.list("ipv6.dns", "dns6");
    r.list("ipv6.dns-search", "dns6_search");
    r.flag("ipv6.ignore-auto-dns", "dns6_ignore_auto", false);
    r.flag("ipv6.ignore-auto-routes", "gw6_ignore_auto", false);
    let m6 = needs_method(!ip6.is_empty(), r.args.str("method6"));
    r.one("ipv6.method", m6);
    Ok(())
}

/// The bond options nmcli takes by their own names and reports inside `bond.options`.
fn bond_option(key: &str) -> bool {
    matches!(key, "mode" | "miimon" | "downdelay" | "updelay" | "primary")
}

/// A name as `nmcli -g` prints it: `:` and `\` escaped.
fn terse(name: &str) -> String {
    name.replace('\\', "\\\\").replace(':', "\\:")
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    match ctx
        .output_with(&spec.command(ctx.check), b"", "nmcli")
        .await
    {
        Ok(out) => {
            let report = String::from_utf8_lossy(&out);
            let mut outcome = Outcome {
                changed: super::reports_change(&out),
                ..Outcome::default()
            };
            if outcome.changed && ctx.diff {
                outcome.diff = spec.diff(&report);
            }
            outcome
                .result
                .insert("conn_name".into(), json!(spec.conn_name));
            outcome
                .result
                .insert("state".into(), json!(args.str("state").unwrap_or_default()));
            outcome
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> Result<Spec, String> {
        Spec::from_args(&Args(v.as_object().unwrap().clone()))
    }

    #[test]
    fn a_static_ethernet_profile_gets_the_modules_settings_and_defaults() {
        let s = spec(json!({"conn_name": "lan", "type": "ethernet", "ifname": "eth1", "ip4": ["192.168.50.10/24"], "gw4": "192.168.50.1", "dns4": ["9.9.9.9", "1.1.1.1"], "state": "present"})).unwrap();
        let keys: Vec<(&str, String, bool)> = s
            .settings
            .iter()
            .map(|st| (st.key, st.value.arg(), st.compared))
            .collect();
        assert_eq!(
            keys,
            [
                ("connection.interface-name", "eth1".to_string(), true),
                ("connection.autoconnect", "yes".into(), true),
                ("ipv4.addresses", "192.168.50.10/24".into(), true),
                ("ipv4.gateway", "192.168.50.1".into(), true),
                ("ipv4.dns", "9.9.9.9,1.1.1.1".into(), true),
                ("ipv4.dns-search", String::new(), false),
                ("ipv4.ignore-auto-dns", "no".into(), true),
                ("ipv4.ignore-auto-routes", "no".into(), true),
                ("ipv4.never-default", "no".into(), true),
                ("ipv4.method", "manual".into(), true),
                ("ipv4.may-fail", "yes".into(), true),
                ("ipv6.addresses", String::new(), false),
                ("ipv6.dns", String::new(), false),
                ("ipv6.dns-search", String::new(), false),
                ("ipv6.ignore-auto-dns", "no".into(), true),
                ("ipv6.ignore-auto-routes", "no".into(), true),
            ]
        );
        let c = s.command(false);
        assert!(c.contains("c=$(nmcli -g ipv4.dns connection show \"$n\" 2>/dev/null); printf 'was:ipv4.dns=%s\\n' \"$c\"; [ \"$(norm \"$c\")\" = 1.1.1.1,9.9.9.9, ] || d=1; "), "{c}");
        assert!(c.contains("else nmcli connection add type ethernet con-name \"$n\" connection.interface-name eth1 connection.autoconnect yes ipv4.addresses 192.168.50.10/24 "), "{c}");
        assert!(
            c.contains("ipv4.dns 9.9.9.9,1.1.1.1 ipv4.dns-search '' "),
            "{c}"
        );
        assert!(
            s.command(true)
                .contains("if [ -n \"$d\" ]; then echo changed; fi; else echo changed; fi")
        );
    }

    #[test]
    fn types_states_and_their_requirements() {
        let dummy = spec(json!({"conn_name": "d0", "type": "dummy", "state": "up"})).unwrap();
        assert!(
            dummy
                .settings
                .iter()
                .any(|s| s.key == "ipv4.method" && s.value.arg() == "disabled")
        );
        assert!(dummy.command(false).ends_with(
            "; if ! active; then nmcli connection up \"$n\" >&2 || exit 1; echo changed; fi"
        ));
        let port = spec(json!({"conn_name": "br0-port", "type": "bridge-slave", "master": "br0", "ifname": "d1", "state": "present"})).unwrap();
        assert!(!port.settings.iter().any(|s| s.key.starts_with("ipv4")));
        assert!(port.command(false).contains(" connection.master br0 connection.slave-type bridge bridge-port.path-cost 100 bridge-port.hairpin-mode no bridge-port.priority 32"));
        let bond =
            spec(json!({"conn_name": "b0", "type": "bond", "miimon": 100, "state": "present"}))
                .unwrap();
        assert!(bond.command(false).contains("c=$(nmcli -g bond.options connection show \"$n\" 2>/dev/null | tr ',' '\\n' | sed -n 's/^miimon=//p'); "));
        let gone = spec(json!({"conn_name": "it's", "state": "absent"})).unwrap();
        assert!(gone.command(false).contains(
            "n='it'\\''s'; exists() { nmcli -g NAME connection show | grep -qxF -- 'it'\\''s'; }"
        ));
        for (args, msg) in [
            (
                json!({"conn_name": "x", "type": "wifi", "state": "present"}),
                "not one drover makes",
            ),
            (
                json!({"conn_name": "x", "state": "present"}),
                "needs `type`",
            ),
            (
                json!({"conn_name": "x", "type": "ethernet"}),
                "needs `state`",
            ),
            (
                json!({"conn_name": "x", "type": "bond-slave", "state": "present"}),
                "needs `master`",
            ),
            (
                json!({"conn_name": "x", "type": "ethernet", "ip4": "10.0.0.1", "state": "present"}),
                "prefix length",
            ),
            (
                json!({"conn_name": "x", "type": "bridge", "mtu": 1400, "state": "present"}),
                "`mtu`",
            ),
        ] {
            assert!(spec(args).unwrap_err().contains(msg), "{msg}");
        }
    }

    #[test]
    fn the_diff_shows_the_settings_that_were_and_will_be() {
        let s = spec(json!({"conn_name": "d0", "type": "dummy", "ip4": "10.1.0.1/24", "state": "present", "autoconnect": false})).unwrap();
        let report = "was:connection.autoconnect=yes\nwas:ipv4.addresses=10.1.0.1/24\n";
        let d = s.diff(report).unwrap();
        assert!(
            d.contains("-connection.autoconnect: yes\n")
                && d.contains("+connection.autoconnect: no\n"),
            "{d}"
        );
    }
}
