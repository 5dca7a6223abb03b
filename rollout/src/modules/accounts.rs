//! user and group: local accounts, as Ansible's `user` and `group` modules manage them on Linux, with
//! shadow's own tools (useradd, usermod, userdel, groupadd, groupmod, groupdel, chpasswd). One round
//! trip reads the account database (`getent`); a pure planner compares it with the parameters and
//! gives the commands that change only what differs (none: the task is ok); a second round trip runs
//! them and reads the result back. A password hash goes to `chpasswd -e` on standard input, never on a
//! command line, and is never reported.

use drover_ssh::shell::quote;
use serde_json::{Map, json};

use super::{Args, ModuleCtx, Outcome, json_words};

/// A line of /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub comment: String,
    pub home: String,
    pub shell: String,
}

/// A line of /etc/group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// The account database as `getent` printed it.
#[derive(Debug, Clone, Default)]
pub struct Database {
    /// The user asked about, if it exists.
    pub user: Option<Account>,
    /// Every group.
    pub groups: Vec<GroupEntry>,
    /// The user's password field from shadow, when it was read.
    pub shadow: Option<String>,
    /// The user's password aging from shadow, when it was read.
    pub aging: Aging,
}

/// Password aging as shadow keeps it, in days (-1 where the field is empty: no limit), in chage's
/// order of options: minimum, maximum, warning, inactivity, and the account's expiry (days since
/// 1970).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aging {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub warn: Option<i64>,
    pub inactive: Option<i64>,
    pub expire: Option<i64>,
}

impl Aging {
    /// Fields 4 to 7 of a shadow line.
    fn from_shadow(fields: &[&str]) -> Aging {
        let day = |i: usize| {
            fields
                .get(i)
                .map(|f| {
                    if f.is_empty() {
                        Ok(-1)
                    } else {
                        f.parse::<i64>()
                    }
                })
                .and_then(Result::ok)
        };
        Aging {
            min: day(3),
            max: day(4),
            warn: day(5),
            inactive: day(6),
            expire: day(7),
        }
    }

    /// chage's options for what `want` gives and `self` does not have.
    fn chage_options(&self, want: &Aging) -> Vec<String> {
        let mut opts = Vec::new();
        for (flag, want, have) in [
            ("-m", want.min, self.min),
            ("-M", want.max, self.max),
            ("-W", want.warn, self.warn),
            ("-I", want.inactive, self.inactive),
            ("-E", want.expire, self.expire),
        ] {
            if let Some(w) = want.filter(|w| Some(*w) != have) {
                opts.extend([flag.to_string(), w.to_string()]);
            }
        }
        opts
    }
}

impl Database {
    /// A group by name or by number, as Ansible looks groups up (a number first).
    fn group(&self, key: &str) -> Option<&GroupEntry> {
        key.parse::<u32>()
            .ok()
            .and_then(|gid| self.groups.iter().find(|g| g.gid == gid))
            .or_else(|| self.groups.iter().find(|g| g.name == key))
    }
}

const SECTION: &str = "##drover-section";

/// The command that reads the database for user `name`: its passwd line, every group, and (when the
/// password or its aging matters) its shadow line.
pub fn query(name: &str, shadow: bool) -> String {
    let n = quote(name);
    let shadow = if shadow {
        // A user not made yet has no line: that is no error.
        format!("; echo '{SECTION}'; getent shadow {n} || :")
    } else {
        String::new()
    };
    format!("getent passwd {n}; echo '{SECTION}'; getent group{shadow}")
}

/// Parses what [`query`] printed.
pub fn parse_database(out: &str, shadow: bool) -> Result<Database, String> {
    let separator = format!("{SECTION}\n");
    let mut parts = out.split(&separator);
    let passwd = parts.next().unwrap_or_default();
    let groups = parts.next().ok_or("getent printed no group section")?;
    let user = match passwd.lines().next() {
        None => None,
        Some(line) => {
            let f: Vec<&str> = line.split(':').collect();
            let [name, _, uid, gid, comment, home, shell] = f[..] else {
                return Err(format!("unexpected passwd line `{line}`"));
            };
            let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad id in `{line}`"));
            Some(Account {
                name: name.into(),
                uid: num(uid)?,
                gid: num(gid)?,
                comment: comment.into(),
                home: home.into(),
                shell: shell.into(),
            })
        }
    };
    let groups = groups
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            let gid = f.get(2)?.parse().ok()?;
            Some(GroupEntry {
                name: f[0].into(),
                gid,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect();
    let line = parts
        .next()
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default();
    let fields: Vec<&str> = line.split(':').collect();
    let (shadow, aging) = if shadow {
        let hash = fields.get(1).copied().unwrap_or_default().to_string();
        (Some(hash), Aging::from_shadow(&fields))
    } else {
        (None, Aging::default())
    };
    Ok(Database {
        user,
        groups,
        shadow,
        aging,
    })
}

/// The `user` task's parameters.
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub name: String,
    pub absent: bool,
    pub uid: Option<u32>,
    pub group: Option<String>,
    /// `groups`: None when not given; an empty list is "no supplementary groups".
    pub groups: Option<Vec<String>>,
    pub append: bool,
    pub shell: Option<String>,
    pub home: Option<String>,
    pub create_home: bool,
    pub system: bool,
    pub password: Option<String>,
    pub update_always: bool,
    pub comment: Option<String>,
    pub remove: bool,
    pub force: bool,
    pub move_home: bool,
    pub password_lock: Option<bool>,
    pub non_unique: bool,
    /// `password_expire_min`, `_max`, `_warn` and `_account_disable`, and `expires`.
    pub aging: Aging,
    /// `skeleton`: the folder a new home is copied from.
    pub skeleton: Option<String>,
    /// useradd's `-K` settings for a new user: `umask`, `uid_min`, `uid_max`.
    pub login_defs: Vec<String>,
}

impl UserSpec {
    /// Reads the parameters (Ansible's names and defaults).
    pub fn from_args(args: &Args) -> Result<UserSpec, String> {
        let name = args.first(&["name", "user"]).ok_or("user needs `name`")?;
        let state = args.str("state").unwrap_or_else(|| "present".into());
        let uid = match args.num("uid") {
            None if args.str("uid").is_some() => return Err("user: `uid` is not a number".into()),
            None => None,
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
            Some(n) => return Err(format!("user: `uid: {n}` is not a user id")),
        };
        // A list, or Ansible's comma-separated string.
        let groups = args
            .0
            .get("groups")
            .filter(|v| !v.is_null())
            .map(|v| json_words(v).join(","));
        let update = args
            .str("update_password")
            .unwrap_or_else(|| "always".into());
        Ok(UserSpec {
            name,
            absent: match state.as_str() {
                "present" => false,
                "absent" => true,
                other => return Err(format!("user: `state: {other}` is not present or absent")),
            },
            uid,
            group: args.str("group"),
            groups: groups.map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }),
            append: args.bool("append").unwrap_or(false),
            shell: args.str("shell"),
            home: args.str("home"),
            create_home: args
                .bool("create_home")
                .or_else(|| args.bool("createhome"))
                .unwrap_or(true),
            system: args.bool("system").unwrap_or(false),
            password: args.str("password"),
            update_always: update == "always",
            comment: args.str("comment"),
            remove: args.bool("remove").unwrap_or(false),
            force: args.bool("force").unwrap_or(false),
            move_home: args.bool("move_home").unwrap_or(false),
            password_lock: args.bool("password_lock"),
            non_unique: args.bool("non_unique").unwrap_or(false),
            aging: Aging {
                min: days(args, "password_expire_min")?,
                max: days(args, "password_expire_max")?,
                warn: days(args, "password_expire_warn")?,
                inactive: days(args, "password_expire_account_disable")?,
                expire: expiry_day(args)?,
            },
            skeleton: args.str("skeleton"),
            login_defs: login_defs(
                args,
                &[
                    ("umask", "UMASK"),
                    ("uid_min", "UID_MIN"),
                    ("uid_max", "UID_MAX"),
                ],
            )?,
        })
    }

    /// Whether the plan needs the shadow line.
    pub fn reads_shadow(&self) -> bool {
        !self.absent
            && (self.password.is_some()
                || self.password_lock.is_some()
                || self.aging != Aging::default())
    }
}

/// A number of days for chage (-1: no limit).
fn days(args: &Args, key: &str) -> Result<Option<i64>, String> {
    match args.num(key) {
        None if args.0.get(key).is_some_and(|v| !v.is_null()) => {
            Err(format!("user: `{key}` is not a number of days"))
        }
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (-1.0..=99_999.0).contains(&n) => Ok(Some(n as i64)),
        Some(n) => Err(format!("user: `{key}: {n}` is not a number of days")),
    }
}

/// `expires` (seconds since 1970, as Ansible takes it) as the day shadow keeps; a negative
/// value is no expiry (-1), as Ansible removes it.
fn expiry_day(args: &Args) -> Result<Option<i64>, String> {
    match args.num("expires") {
        None if args.0.get("expires").is_some_and(|v| !v.is_null()) => {
            Err("user: `expires` is not a number of seconds since 1970".into())
        }
        None => Ok(None),
        Some(n) if n < 0.0 => Ok(Some(-1)),
        Some(n) if n.is_finite() && n < 1e15 => Ok(Some((n / 86_400.0).floor() as i64)),
        Some(n) => Err(format!("user: `expires: {n}` is not a time")),
    }
}

/// useradd's or groupadd's `-K NAME=VALUE` settings (login.defs) from `pairs` of parameter and
/// setting names, for what is made now, as Ansible passes them.
fn login_defs(args: &Args, pairs: &[(&str, &str)]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (key, setting) in pairs {
        if let Some(value) = args.str(key) {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("`{key}: {value}` is not a number"));
            }
            out.extend(["-K".to_string(), format!("{setting}={value}")]);
        }
    }
    Ok(out)
}

/// `chage` with `opts` for the user, when there are any.
fn chage(name: &str, opts: Vec<String>) -> Option<Vec<String>> {
    (!opts.is_empty()).then(|| {
        let mut cmd = words(&["chage"]);
        cmd.extend(opts);
        cmd.push(name.to_string());
        cmd
    })
}

/// What to run: commands (words, quoted when rendered) and a password line for `chpasswd -e`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub commands: Vec<Vec<String>>,
    /// `name:hash` for `chpasswd -e` on standard input.
    pub password: Option<String>,
}

impl Plan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.password.is_none()
    }

    /// The commands as one POSIX sh line, stopping at the first failure.
    pub fn render(&self) -> String {
        let mut lines: Vec<String> = self
            .commands
            .iter()
            .map(|words| words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "))
            .collect();
        if self.password.is_some() {
            lines.push("chpasswd -e".into());
        }
        lines.join(" && ")
    }
}

fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The hash to store: locked (`!` in front) when `password_lock` says so.
fn stored_hash(spec: &UserSpec, hash: &str) -> String {
    if spec.password_lock == Some(true) {
        format!("!{}", hash.trim_start_matches('!'))
    } else {
        hash.to_string()
    }
}

/// Plans the `user` task against the database: Ansible's rules, on Linux with shadow's tools.
pub fn plan_user(spec: &UserSpec, db: &Database) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let Some(current) = &db.user else {
        if !spec.absent {
            plan.commands = create_user(spec, db)?;
            plan.password = spec
                .password
                .as_ref()
                .map(|h| format!("{}:{}", spec.name, stored_hash(spec, h)));
        }
        return Ok(plan);
    };
    if spec.absent {
        let mut cmd = words(&["userdel"]);
        if spec.force {
            cmd.push("-f".into());
        }
        if spec.remove {
            cmd.push("-r".into());
        }
        cmd.push(spec.name.clone());
        plan.commands.push(cmd);
        return Ok(plan);
    }
    let mut opts: Vec<String> = Vec::new();
    if let Some(uid) = spec.uid.filter(|u| *u != current.uid) {
        opts.extend(["-u".into(), uid.to_string()]);
        if spec.non_unique {
            opts.push("-o".into());
        }
    }
    if let Some(group) = &spec.group {
        let g = db
            .group(group)
            .ok_or_else(|| format!("Group {group} does not exist"))?;
        if g.gid != current.gid {
            opts.extend(["-g".into(), g.gid.to_string()]);
        }
    }
    if let Some(groups) = &spec.groups {
        opts.extend(group_change(spec, groups, db)?);
    }
    for (flag, want, have) in [
        ("-c", &spec.comment, &current.comment),
        ("-s", &spec.shell, &current.shell),
    ] {
        if let Some(want) = want.as_ref().filter(|w| *w != have) {
            opts.extend([flag.to_string(), want.clone()]);
        }
    }
    if let Some(home) = spec.home.as_ref().filter(|h| **h != current.home) {
        opts.extend(["-d".into(), home.clone()]);
        if spec.move_home {
            opts.push("-m".into());
        }
    }
    let shadow = db.shadow.as_deref().unwrap_or_default();
    let new_hash = spec.password.as_ref().filter(|h| {
        spec.update_always && shadow.trim_start_matches('!') != h.trim_start_matches('!')
    });
    match (new_hash, spec.password_lock) {
        (Some(h), _) => plan.password = Some(format!("{}:{}", spec.name, stored_hash(spec, h))),
        (None, Some(true)) if !shadow.starts_with('!') => opts.push("-L".into()),
        (None, Some(false)) if shadow.starts_with('!') => opts.push("-U".into()),
        _ => {}
    }
    if !opts.is_empty() {
        let mut cmd = words(&["usermod"]);
        cmd.extend(opts);
        cmd.push(spec.name.clone());
        plan.commands.push(cmd);
    }
    plan.commands
        .extend(chage(&spec.name, db.aging.chage_options(&spec.aging)));
    Ok(plan)
}

/// `useradd` with what the parameters ask for, as Ansible builds it (`-N` when a group of the
/// user's name exists and no primary group is given, so useradd does not try to make one).
fn create_user(spec: &UserSpec, db: &Database) -> Result<Vec<Vec<String>>, String> {
    let mut commands = Vec::new();
    let mut cmd = words(&["useradd"]);
    if let Some(uid) = spec.uid {
        cmd.extend(["-u".into(), uid.to_string()]);
        if spec.non_unique {
            cmd.push("-o".into());
        }
    }
    match &spec.group {
        Some(group) => {
            db.group(group)
                .ok_or_else(|| format!("Group {group} does not exist"))?;
            cmd.extend(["-g".into(), group.clone()]);
        }
        None if db.group(&spec.name).is_some() => cmd.push("-N".into()),
        None => {}
    }
    if let Some(groups) = spec.groups.as_ref().filter(|g| !g.is_empty()) {
        for g in groups {
            db.group(g)
                .ok_or_else(|| format!("Group {g} does not exist"))?;
        }
        cmd.extend(["-G".into(), groups.join(",")]);
    }
    if let Some(comment) = &spec.comment {
        cmd.extend(["-c".into(), comment.clone()]);
    }
    if let Some(home) = &spec.home {
        // useradd does not make missing parent folders; Ansible makes them.
        let parent = std::path::Path::new(home)
            .parent()
            .filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|_| spec.create_home) {
            commands.push(words(&["mkdir", "-p", "--", &parent.to_string_lossy()]));
        }
        cmd.extend(["-d".into(), home.clone()]);
    }
    if let Some(shell) = &spec.shell {
        cmd.extend(["-s".into(), shell.clone()]);
    }
    cmd.push(if spec.create_home { "-m" } else { "-M" }.into());
    if let Some(skeleton) = spec.skeleton.as_ref().filter(|_| spec.create_home) {
        cmd.extend(["-k".into(), skeleton.clone()]);
    }
    cmd.extend(spec.login_defs.iter().cloned());
    if spec.system {
        cmd.push("-r".into());
    }
    cmd.push(spec.name.clone());
    commands.push(cmd);
    if spec.password.is_none() && spec.password_lock == Some(true) {
        commands.push(words(&["usermod", "-L", &spec.name]));
    }
    commands.extend(chage(
        &spec.name,
        Aging::default().chage_options(&spec.aging),
    ));
    Ok(commands)
}

/// The `usermod` options for `groups`: with `append`, only when a listed group is missing; without,
/// when the memberships differ at all (an empty list removes every supplementary group).
fn group_change(spec: &UserSpec, groups: &[String], db: &Database) -> Result<Vec<String>, String> {
    let current: std::collections::BTreeSet<&str> = db
        .groups
        .iter()
        .filter(|g| g.members.contains(&spec.name))
        .map(|g| g.name.as_str())
        .collect();
    let mut wanted = std::collections::BTreeSet::new();
    for g in groups {
        let entry = db
            .group(g)
            .ok_or_else(|| format!("Group {g} does not exist"))?;
        wanted.insert(entry.name.as_str());
    }
    let differs = if spec.append {
        !wanted.is_subset(&current)
    } else {
        wanted != current
    };
    if !differs {
        return Ok(Vec::new());
    }
    let mut opts = Vec::new();
    if spec.append {
        opts.push("-a".into());
    }
    opts.extend(["-G".into(), groups.join(",")]);
    Ok(opts)
}

/// The `group` task's parameters.
#[derive(Debug, Clone, Default)]
pub struct GroupSpec {
    pub name: String,
    pub absent: bool,
    pub gid: Option<u32>,
    pub system: bool,
    pub non_unique: bool,
    /// `force`: remove the group even when it is a user's primary group (`groupdel -f`).
    pub force: bool,
    /// groupadd's `-K` settings for a new group: `gid_min`, `gid_max`.
    pub login_defs: Vec<String>,
}

impl GroupSpec {
    pub fn from_args(args: &Args) -> Result<GroupSpec, String> {
        let name = args.str("name").ok_or("group needs `name`")?;
        let gid = match args.num("gid") {
            None if args.str("gid").is_some() => return Err("group: `gid` is not a number".into()),
            None => None,
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
            Some(n) => return Err(format!("group: `gid: {n}` is not a group id")),
        };
        Ok(GroupSpec {
            name,
            absent: match args.str("state").as_deref().unwrap_or("present") {
                "present" => false,
                "absent" => true,
                other => return Err(format!("group: `state: {other}` is not present or absent")),
            },
            gid,
            system: args.bool("system").unwrap_or(false),
            non_unique: args.bool("non_unique").unwrap_or(false),
            force: args.bool("force").unwrap_or(false),
            login_defs: login_defs(args, &[("gid_min", "GID_MIN"), ("gid_max", "GID_MAX")])?,
        })
    }
}

/// Plans the `group` task: groupadd, groupmod -g or groupdel, only for what differs.
pub fn plan_group(spec: &GroupSpec, db: &Database) -> Plan {
    let current = db.groups.iter().find(|g| g.name == spec.name);
    let mut cmd = Vec::new();
    match (current, spec.absent) {
        (Some(_), true) if spec.force => cmd = words(&["groupdel", "-f", &spec.name]),
        (Some(_), true) => cmd = words(&["groupdel", &spec.name]),
        (None, false) => {
            cmd = words(&["groupadd"]);
            cmd.extend(spec.login_defs.iter().cloned());
            if let Some(gid) = spec.gid {
                cmd.extend(["-g".into(), gid.to_string()]);
                if spec.non_unique {
                    cmd.push("-o".into());
                }
            }
            if spec.system {
                cmd.push("-r".into());
            }
            cmd.push(spec.name.clone());
        }
        (Some(g), false) => {
            if let Some(gid) = spec.gid.filter(|gid| *gid != g.gid) {
                cmd = words(&["groupmod", "-g", &gid.to_string()]);
                if spec.non_unique {
                    cmd.push("-o".into());
                }
                cmd.push(spec.name.clone());
            }
        }
        (None, true) => {}
    }
    Plan {
        commands: if cmd.is_empty() {
            Vec::new()
        } else {
            vec![cmd]
        },
        password: None,
    }
}

/// Reads the database, plans, applies (unless in check mode) and reads the result back.
async fn apply(
    ctx: &ModuleCtx<'_>,
    name: &str,
    shadow: bool,
    plan: impl FnOnce(&Database) -> Result<Plan, String>,
) -> Result<(Plan, Database), String> {
    let out = ctx
        .output_of(&query(name, shadow), "reading the account database")
        .await?;
    let db = parse_database(&String::from_utf8_lossy(&out), shadow)?;
    let plan = plan(&db)?;
    if plan.is_empty() || ctx.check {
        return Ok((plan, db));
    }
    // The read-back is one group of commands: a failed change must end the line with its own
    // status, not have the last `getent` of the read-back speak for it.
    let cmd = format!("{} && {{ {}; }}", plan.render(), query(name, false));
    let stdin = plan
        .password
        .as_ref()
        .map(|line| format!("{line}\n").into_bytes())
        .unwrap_or_default();
    // The message names the tool that failed, never the password line.
    let after = match ctx.exec(&cmd, &stdin).await {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => return Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => return Err(e.to_string()),
    };
    let db = parse_database(&String::from_utf8_lossy(&after), false)?;
    Ok((plan, db))
}

/// The `user` module.
pub async fn user(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match UserSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let key = match super::ssh_key::KeySpec::from_args(args) {
        Ok(k) => k,
        Err(e) => return Outcome::bad_input(format!("user {}: {e}", spec.name)),
    };
    let (plan, db) = match apply(ctx, &spec.name, spec.reads_shadow(), |db| {
        plan_user(&spec, db)
    })
    .await
    {
        Ok(r) => r,
        Err(e) => return Outcome::fail(format!("user {}: {e}", spec.name)),
    };
    let mut result = Map::new();
    result.insert("name".into(), json!(spec.name));
    result.insert(
        "state".into(),
        json!(if spec.absent { "absent" } else { "present" }),
    );
    if spec.absent {
        result.insert("force".into(), json!(spec.force));
        result.insert("remove".into(), json!(spec.remove));
    } else if let Some(u) = &db.user {
        result.insert("uid".into(), json!(u.uid));
        result.insert("group".into(), json!(u.gid));
        result.insert("home".into(), json!(u.home));
        result.insert("shell".into(), json!(u.shell));
        result.insert("comment".into(), json!(u.comment));
        result.insert("system".into(), json!(spec.system));
        result.insert("create_home".into(), json!(spec.create_home));
        result.insert("move_home".into(), json!(spec.move_home));
        result.insert("append".into(), json!(spec.append));
        if let Some(groups) = &spec.groups {
            result.insert("groups".into(), json!(groups.join(",")));
        }
    }
    if spec.password.is_some() {
        result.insert("password".into(), json!("NOT_LOGGING_PASSWORD"));
    }
    let mut changed = !plan.is_empty();
    // The key is made for an account that exists (under --check, one that would be made has
    // none yet: its key would be made too).
    if let (Some(key), false) = (&key, spec.absent) {
        match &db.user {
            Some(account) => {
                let path = key.path(account);
                match ctx
                    .output_of(&key.command(account, ctx.check), "generating the ssh key")
                    .await
                {
                    Ok(out) => {
                        let (made, values) =
                            super::ssh_key::report(&String::from_utf8_lossy(&out), &path);
                        changed |= made;
                        result.extend(values);
                    }
                    Err(e) => return Outcome::fail(format!("user {}: {e}", spec.name)),
                }
            }
            None => changed = true,
        }
    }
    Outcome {
        changed,
        result,
        ..Outcome::default()
    }
}

/// The `group` module.
pub async fn group(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match GroupSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let (plan, db) = match apply(ctx, &spec.name, false, |db| Ok(plan_group(&spec, db))).await {
        Ok(r) => r,
        Err(e) => return Outcome::fail(format!("group {}: {e}", spec.name)),
    };
    let mut result = Map::new();
    result.insert("name".into(), json!(spec.name));
    result.insert(
        "state".into(),
        json!(if spec.absent { "absent" } else { "present" }),
    );
    if let Some(g) = db.groups.iter().find(|g| g.name == spec.name) {
        result.insert("gid".into(), json!(g.gid));
    }
    result.insert("system".into(), json!(spec.system));
    Outcome {
        changed: !plan.is_empty(),
        result,
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    use crate::modules::args;

    const DB: &str = "deploy:x:1001:1001:Deploy:/home/deploy:/bin/sh\n##drover-section\nroot:x:0:\nsudo:x:27:ops\ndocker:x:998:deploy\ndeploy:x:1001:\nadm:x:4:\n";

    fn db() -> Database {
        parse_database(DB, false).unwrap()
    }

    fn user_plan(v: Json, db: &Database) -> Result<String, String> {
        plan_user(&UserSpec::from_args(&args(v))?, db).map(|p| p.render())
    }

    #[test]
    fn the_database_is_read_from_getent() {
        let d = db();
        assert_eq!(
            d.user,
            Some(Account {
                name: "deploy".into(),
                uid: 1001,
                gid: 1001,
                comment: "Deploy".into(),
                home: "/home/deploy".into(),
                shell: "/bin/sh".into(),
            })
        );
        assert_eq!(d.groups.len(), 5);
        assert_eq!(d.group("998").unwrap().name, "docker");
        assert_eq!(d.group("sudo").unwrap().members, ["ops"]);
        let missing =
            parse_database("##drover-section\nroot:x:0:\n##drover-section\n\n", true).unwrap();
        assert_eq!(missing.user, None);
        assert_eq!(missing.shadow.as_deref(), Some(""));
        assert_eq!(
            query("it's", true),
            "getent passwd 'it'\\''s'; echo '##drover-section'; getent group; echo '##drover-section'; getent shadow 'it'\\''s' || :"
        );
        let aged = parse_database(
            "##drover-section\nroot:x:0:\n##drover-section\ndeploy:$6$a$b:19000:1:90::30::\n",
            true,
        )
        .unwrap();
        assert_eq!(aged.shadow.as_deref(), Some("$6$a$b"));
        assert_eq!(
            aged.aging,
            Aging {
                min: Some(1),
                max: Some(90),
                warn: Some(-1),
                inactive: Some(30),
                expire: Some(-1),
            }
        );
    }

    #[test]
    fn password_aging_changes_with_chage_only_where_it_differs() {
        let mut d = db();
        d.aging = Aging {
            min: Some(0),
            max: Some(99999),
            warn: Some(7),
            inactive: Some(-1),
            expire: Some(-1),
        };
        let aging = json!({"name": "deploy", "password_expire_min": 7, "password_expire_max": 60, "password_expire_warn": 7});
        assert_eq!(
            user_plan(aging.clone(), &d).unwrap(),
            "chage -m 7 -M 60 deploy"
        );
        d.aging.min = Some(7);
        d.aging.max = Some(60);
        assert_eq!(user_plan(aging, &d).unwrap(), "");
        // `expires` is a time in seconds; shadow keeps its day, and a negative one is none.
        let expires = json!({"name": "deploy", "expires": 1_893_456_000.5});
        assert_eq!(
            user_plan(expires.clone(), &d).unwrap(),
            "chage -E 21915 deploy"
        );
        d.aging.expire = Some(21915);
        assert_eq!(user_plan(expires, &d).unwrap(), "");
        assert_eq!(
            user_plan(json!({"name": "deploy", "expires": -1}), &d).unwrap(),
            "chage -E -1 deploy"
        );
        // A new user gets them after useradd.
        d.user = None;
        let made = user_plan(json!({"name": "deploy", "password_expire_max": -1}), &d).unwrap();
        assert!(made.ends_with(" && chage -M -1 deploy"), "{made}");
        assert!(
            UserSpec::from_args(&args(json!({"name": "x", "password_expire_max": "often"})))
                .is_err()
        );
    }

    #[test]
    fn a_new_user_is_made_with_what_is_asked_as_ansible_builds_useradd() {
        let mut d = db();
        d.user = None;
        assert_eq!(
            user_plan(json!({"name": "app", "groups": ["docker", "sudo"], "shell": "/bin/bash", "home": "/srv/app/home", "system": true, "comment": "App; $(x)", "uid": 990}), &d).unwrap(),
            "mkdir -p -- /srv/app && useradd -u 990 -G docker,sudo -c 'App; $(x)' -d /srv/app/home -s /bin/bash -m -r app"
        );
        // A group of the user's own name exists: -N, so useradd does not try to make it.
        assert_eq!(
            user_plan(json!({"name": "deploy", "create_home": false}), &d).unwrap(),
            "useradd -N -M deploy"
        );
        assert_eq!(
            user_plan(json!({"name": "x", "group": "nope"}), &d).unwrap_err(),
            "Group nope does not exist"
        );
        // The password goes to chpasswd on standard input, never on a command line.
        let spec = UserSpec::from_args(&args(
            json!({"name": "x", "password": "$6$salt$hash", "password_lock": true}),
        ))
        .unwrap();
        let plan = plan_user(&spec, &d).unwrap();
        assert_eq!(plan.render(), "useradd -m x && chpasswd -e");
        assert_eq!(plan.password.as_deref(), Some("x:!$6$salt$hash"));
    }

    #[test]
    fn an_existing_user_changes_only_what_differs() {
        let d = db();
        assert_eq!(
            user_plan(json!({"name": "deploy", "shell": "/bin/sh", "comment": "Deploy", "groups": "docker"}), &d).unwrap(),
            ""
        );
        assert_eq!(
            user_plan(
                json!({"name": "deploy", "shell": "/bin/bash", "uid": 1001, "group": "adm"}),
                &d
            )
            .unwrap(),
            "usermod -g 4 -s /bin/bash deploy"
        );
        // Without append the memberships must match exactly; with it, only missing ones count.
        assert_eq!(
            user_plan(json!({"name": "deploy", "groups": ["sudo"]}), &d).unwrap(),
            "usermod -G sudo deploy"
        );
        assert_eq!(
            user_plan(
                json!({"name": "deploy", "groups": ["sudo"], "append": true}),
                &d
            )
            .unwrap(),
            "usermod -a -G sudo deploy"
        );
        assert_eq!(
            user_plan(
                json!({"name": "deploy", "groups": "docker", "append": "yes"}),
                &d
            )
            .unwrap(),
            ""
        );
        assert_eq!(
            user_plan(json!({"name": "deploy", "groups": ""}), &d).unwrap(),
            "usermod -G '' deploy"
        );
        assert_eq!(
            user_plan(
                json!({"name": "deploy", "home": "/srv/deploy", "move_home": true}),
                &d
            )
            .unwrap(),
            "usermod -d /srv/deploy -m deploy"
        );
        assert_eq!(
            user_plan(
                json!({"name": "deploy", "state": "absent", "remove": true, "force": true}),
                &d
            )
            .unwrap(),
            "userdel -f -r deploy"
        );
    }

    #[test]
    fn passwords_and_locks_follow_the_shadow_field() {
        let mut d = db();
        d.shadow = Some("$6$a$b".into());
        let plan =
            |v: Json, d: &Database| plan_user(&UserSpec::from_args(&args(v)).unwrap(), d).unwrap();
        assert!(plan(json!({"name": "deploy", "password": "$6$a$b"}), &d).is_empty());
        assert!(
            plan(
                json!({"name": "deploy", "password": "$6$new$c", "update_password": "on_create"}),
                &d
            )
            .is_empty()
        );
        let p = plan(json!({"name": "deploy", "password": "$6$new$c"}), &d);
        assert_eq!(
            (p.render().as_str(), p.password.as_deref()),
            ("chpasswd -e", Some("deploy:$6$new$c"))
        );
        assert_eq!(
            plan(json!({"name": "deploy", "password_lock": true}), &d).render(),
            "usermod -L deploy"
        );
        d.shadow = Some("!$6$a$b".into());
        assert!(plan(json!({"name": "deploy", "password_lock": true}), &d).is_empty());
        assert_eq!(
            plan(json!({"name": "deploy", "password_lock": false}), &d).render(),
            "usermod -U deploy"
        );
    }

    #[test]
    fn groups_are_added_moved_and_removed_only_when_they_differ() {
        let d = db();
        let plan = |v: Json| plan_group(&GroupSpec::from_args(&args(v)).unwrap(), &d).render();
        assert_eq!(
            plan(json!({"name": "app", "gid": 2000, "system": true})),
            "groupadd -g 2000 -r app"
        );
        assert_eq!(plan(json!({"name": "docker"})), "");
        assert_eq!(plan(json!({"name": "docker", "gid": 998})), "");
        assert_eq!(
            plan(json!({"name": "docker", "gid": "999"})),
            "groupmod -g 999 docker"
        );
        assert_eq!(
            plan(json!({"name": "docker", "state": "absent"})),
            "groupdel docker"
        );
        assert_eq!(plan(json!({"name": "nope", "state": "absent"})), "");
        assert!(GroupSpec::from_args(&args(json!({"name": "x", "gid": "abc"}))).is_err());
    }
}
