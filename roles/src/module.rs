//! The modules drover runs, their parameters, and the check of a task's parameters against them.

use drover_yaml::Node;
use serde_json::Value as Json;

use crate::error::{At, PlaybookError};
use crate::source::{Source, suggest};

/// Every module drover runs. A module is this type, not a name matched in several places: the
/// loader reads its [`Spec`], the executor matches on it (exhaustively), and `drover doc` and
/// docs/modules.md are written from the same declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    /// `command`.
    Command,
    /// `shell`.
    Shell,
    /// `copy`.
    Copy,
    /// `template`.
    Template,
    /// `file`.
    File,
    /// `lineinfile`.
    Lineinfile,
    /// `replace`.
    Replace,
    /// `apt`.
    Apt,
    /// `package` (apt on drover's hosts).
    Package,
    /// `service`.
    Service,
    /// `systemd` (and `systemd_service`).
    Systemd,
    /// `docker_compose` (and `docker_compose_v2`).
    DockerCompose,
    /// `uri`.
    Uri,
    /// `get_url`.
    GetUrl,
    /// `wait_for`.
    WaitFor,
    /// `stat`.
    Stat,
    /// `ping`.
    Ping,
    /// `slurp`.
    Slurp,
    /// `async_status`.
    AsyncStatus,
    /// `wait_for_connection`.
    WaitForConnection,
    /// `reboot`.
    Reboot,
    /// `pause`.
    Pause,
    /// `assert`.
    Assert,
    /// `fail`.
    Fail,
    /// `debug`.
    Debug,
    /// `set_fact`.
    SetFact,
    /// `add_host`.
    AddHost,
    /// `group_by`.
    GroupBy,
    /// `include_vars`.
    IncludeVars,
    /// `apt_repository`.
    AptRepository,
    /// `apt_key`.
    AptKey,
    /// `unarchive`.
    Unarchive,
    /// `blockinfile`.
    Blockinfile,
    /// `authorized_key` (ansible.posix).
    AuthorizedKey,
    /// `hostname`.
    Hostname,
    /// `timezone` (community.general).
    Timezone,
    /// `ufw` (community.general).
    Ufw,
    /// `firewalld` (ansible.posix).
    Firewalld,
    /// `script`.
    Script,
    /// `known_hosts`.
    KnownHosts,
    /// `modprobe` (community.general).
    Modprobe,
    /// `filesystem` (community.general).
    Filesystem,
    /// `kernel_blacklist` (community.general).
    KernelBlacklist,
    /// `debconf`.
    Debconf,
    /// `alternatives`.
    Alternatives,
    /// `pam_limits`.
    PamLimits,
    /// `pamd`.
    Pamd,
    /// `sudoers` (community.general).
    Sudoers,
    /// `selinux` (ansible.posix).
    Selinux,
    /// `seport` (community.general).
    Seport,
    /// `assemble`.
    Assemble,
    /// `locale_gen`.
    LocaleGen,
    /// `acl` (ansible.posix).
    Acl,
    /// `make` (community.general).
    Make,
    /// `expect`.
    Expect,
    /// `openssl_privatekey` (community.crypto).
    OpensslPrivatekey,
    /// `openssl_csr` (community.crypto).
    OpensslCsr,
    /// `openssl_csr_pipe` (community.crypto).
    OpensslCsrPipe,
    /// `x509_certificate` (community.crypto).
    X509Certificate,
    /// `openssh_keypair` (community.crypto).
    OpensshKeypair,
    /// `openssl_dhparam` (community.crypto).
    OpensslDhparam,
    /// `htpasswd` (community.general).
    Htpasswd,
    /// `synchronize` (ansible.posix), push mode.
    Synchronize,
    /// `slack` (community.general).
    Slack,
    /// `github_release` (community.general).
    GithubRelease,
    /// `iptables`.
    Iptables,
    /// `snap` (community.general).
    Snap,
    /// `raw`.
    Raw,
    /// `tempfile`.
    Tempfile,
    /// `package_facts`.
    PackageFacts,
    /// `service_facts`.
    ServiceFacts,
    /// `getent`.
    Getent,
    /// `ini_file` (community.general).
    IniFile,
    /// `cron`.
    Cron,
    /// `dpkg_selections`.
    DpkgSelections,
    /// `deb822_repository`.
    Deb822Repository,
    /// `sysctl` (ansible.posix).
    Sysctl,
    /// `find`.
    Find,
    /// `dnf` (and `yum`, which ansible-core hands to dnf).
    Dnf,
    /// `zypper` (community.general).
    Zypper,
    /// `pacman` (community.general).
    Pacman,
    /// `rpm_key`.
    RpmKey,
    /// `yum_repository`.
    YumRepository,
    /// `zypper_repository` (community.general).
    ZypperRepository,
    /// `setup`.
    Setup,
    /// `git`.
    Git,
    /// `git_config` (community.general).
    GitConfig,
    /// `mount` (ansible.posix).
    Mount,
    /// `archive` (community.general).
    Archive,
    /// `pip`.
    Pip,
    /// `npm` (community.general).
    Npm,
    /// `nmcli` (community.general).
    Nmcli,
    /// `apache2_module` (community.general).
    Apache2Module,
    /// `docker_container` (community.docker).
    DockerContainer,
    /// `docker_network` (community.docker).
    DockerNetwork,
    /// `docker_volume` (community.docker).
    DockerVolume,
    /// `docker_prune`.
    DockerPrune,
    /// `docker_container_info` (community.docker).
    DockerContainerInfo,
    /// `docker_container_exec` (community.docker).
    DockerContainerExec,
    /// `docker_image` (community.docker).
    DockerImage,
    /// `docker_image_info` (community.docker).
    DockerImageInfo,
    /// `docker_login` (community.docker).
    DockerLogin,
    /// `user`.
    User,
    /// `group`.
    Group,
    /// `fetch`.
    Fetch,
    /// `meta`.
    Meta,
    /// drover's `compose_lint`.
    ComposeLint,
    /// drover's `version_check`.
    VersionCheck,
}

/// What a parameter's value must be. Checked when the playbook loads for values written as they
/// are; a value that is a template is checked when the task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Text (a number or boolean is read as its text, as Ansible does).
    Str,
    /// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
    Bool,
    /// A number (or its text), such as seconds.
    Number,
    /// An octal file mode: `"0644"` or `0644`.
    Mode,
    /// An octal file mode, or a symbolic one as chmod takes it (`u=rwX,g=rX,o=`).
    AnyMode,
    /// A list, or one value.
    List,
    /// A mapping.
    Dict,
    /// Any value.
    Any,
    /// One of these words.
    Choice(&'static [&'static str]),
}

impl ParamType {
    /// How the reference describes it.
    pub fn describe(self) -> String {
        match self {
            ParamType::Str => "string".into(),
            ParamType::Bool => "boolean".into(),
            ParamType::Number => "number".into(),
            ParamType::Mode => "octal mode".into(),
            ParamType::AnyMode => "octal or symbolic mode (such as u=rwX,g=rX,o=)".into(),
            ParamType::List => "list".into(),
            ParamType::Dict => "mapping".into(),
            ParamType::Any => "any".into(),
            ParamType::Choice(words) => format!("one of {}", words.join(", ")),
        }
    }

    /// Why `value`, written as it is, is not of this type; None when it is.
    fn refuse(self, value: &Json) -> Option<String> {
        let text = match value {
            Json::String(s) => Some(s.as_str()),
            _ => None,
        };
        let ok = match (self, value) {
            (ParamType::Any, _) | (_, Json::Null) => true,
            (ParamType::Str, v) => !v.is_array() && !v.is_object(),
            (ParamType::Bool, Json::Bool(_)) => true,
            (ParamType::Bool, Json::Number(n)) => {
                matches!(n.as_f64(), Some(x) if x == 0.0 || x == 1.0)
            }
            (ParamType::Bool, _) => text.is_some_and(|t| {
                matches!(
                    t.to_ascii_lowercase().as_str(),
                    "yes" | "no" | "true" | "false" | "on" | "off" | "1" | "0" | "y" | "n"
                )
            }),
            (ParamType::Number, Json::Number(_)) => true,
            (ParamType::Number, _) => text.is_some_and(|t| t.trim().parse::<f64>().is_ok()),
            (ParamType::Mode | ParamType::AnyMode, Json::Number(_)) => true,
            (ParamType::AnyMode, _) => {
                text.is_some_and(|t| ParamType::Mode.refuse(value).is_none() || symbolic_mode(t))
            }
            (ParamType::Mode, _) => text.is_some_and(|t| {
                let digits = t.strip_prefix("0o").unwrap_or(t);
                !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
            }),
            (ParamType::List, v) => !v.is_object(),
            (ParamType::Dict, v) => v.is_object(),
            (ParamType::Choice(words), Json::Bool(b)) => {
                words.contains(&if *b { "true" } else { "false" })
                    || choice_of_bool(words, *b).is_some()
            }
            (ParamType::Choice(words), _) => text.is_some_and(|t| words.contains(&t)),
        };
        (!ok).then(|| format!("expected {}, found {value}", self.describe()))
    }
}

/// The one choice a YAML boolean stands for, as Ansible reads it back: PyYAML makes `on` or `yes`
/// a boolean, and Ansible's argument check turns it back into the only choice among its true (or
/// false) spellings, if there is exactly one (`logging: on` for ufw). None where the choices take
/// the boolean as it is, or none or several of them could be meant.
pub fn choice_of_bool(words: &[&'static str], b: bool) -> Option<&'static str> {
    if words.contains(&if b { "true" } else { "false" }) {
        return None;
    }
    let spellings: &[&str] = if b {
        &["y", "yes", "on", "1", "true", "t"]
    } else {
        &["n", "no", "off", "0", "false", "f"]
    };
    let mut meant = words.iter().filter(|w| spellings.contains(w));
    match (meant.next(), meant.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Whether `text` is a symbolic mode as chmod takes it: clauses `[ugoa]*[-+=][rwxXstugo]*`, joined
/// by commas.
pub fn symbolic_mode(text: &str) -> bool {
    !text.is_empty()
        && text.split(',').all(|clause| {
            let rest = clause.trim_start_matches(['u', 'g', 'o', 'a']);
            let mut ops = rest.chars().peekable();
            let mut any = false;
            while let Some(op) = ops.next() {
                if !matches!(op, '+' | '-' | '=') {
                    return false;
                }
                any = true;
                while ops.peek().is_some_and(|c| "rwxXstugo".contains(*c)) {
                    ops.next();
                }
            }
            any
        })
}

/// One parameter of a module.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name, as Ansible spells it.
    pub name: &'static str,
    /// What its value must be.
    pub ty: ParamType,
    /// Whether the module needs it.
    pub required: bool,
    /// What it does, for the reference.
    pub doc: &'static str,
    /// Other names Ansible takes for it (`update-cache` for apt's `update_cache`); read as it.
    pub aliases: &'static [&'static str],
}

impl Param {
    /// The same parameter, also called `aliases`.
    const fn aka(self, aliases: &'static [&'static str]) -> Param {
        Param { aliases, ..self }
    }

    /// Whether `name` calls it.
    fn called(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

const fn p(name: &'static str, ty: ParamType, doc: &'static str) -> Param {
    Param {
        name,
        ty,
        required: false,
        doc,
        aliases: &[],
    }
}

const fn req(name: &'static str, ty: ParamType, doc: &'static str) -> Param {
    Param {
        required: true,
        ..p(name, ty, doc)
    }
}

/// What a module does under `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// It reports what it would change and changes nothing.
    Predicts,
    /// It is skipped (unless the task says `check_mode: false`), as in Ansible.
    Skipped,
    /// It runs as usual: it changes nothing anyway.
    Runs,
}

/// A module's declaration: its parameters, its check and diff support, and what it is for.
pub struct Spec {
    /// The module.
    pub kind: ModuleKind,
    /// Short name.
    pub name: &'static str,
    /// Other names that call it (FQCNs beyond `ansible.builtin.NAME`, older names).
    pub aliases: &'static [&'static str],
    /// One line on what it does.
    pub summary: &'static str,
    /// Parameters it takes.
    pub params: &'static [Param],
    /// Takes a bare string (`command: ls -l`), stored as `_raw_params`.
    pub free_form: bool,
    /// Takes any parameter name (`set_fact`).
    pub any_params: bool,
    /// Modules it hands its other parameters on to, one of them chosen on the host (`package`:
    /// apt, dnf, zypper, pacman): it takes theirs too, and the one chosen must take each.
    pub hands_to: &'static [&'static str],
    /// Its `--check` behaviour.
    pub check_mode: CheckMode,
    /// Shows a diff with `--diff`.
    pub diff: bool,
}

use ParamType::{Any, AnyMode, Bool, Choice, Dict, List, Mode, Number, Str};

const OWNER: Param = p(
    "owner",
    Str,
    "user to own the file (changed only when it differs)",
);
const GROUP: Param = p("group", Str, "group to own the file");

/// The SELinux context of a file a module writes, which Ansible takes beside owner and mode.
/// On a host without SELinux there is no context to set and Ansible does nothing with them; so
/// does drover. A host with SELinux enabled fails the task: drover does not set contexts.
pub const SELINUX_CONTEXT: &[Param] = &[
    p(
        "seuser",
        Str,
        "SELinux user of the file: nothing to set on a host without SELinux; a host with SELinux enabled fails the task",
    ),
    p("serole", Str, "SELinux role of the file (as seuser)"),
    p("setype", Str, "SELinux type of the file (as seuser)"),
    p("selevel", Str, "SELinux level of the file (as seuser)"),
];
const MODE: Param = p("mode", Mode, "permissions, such as \"0644\"");
const ANY_MODE: Param = p(
    "mode",
    AnyMode,
    "permissions: octal, such as \"0644\", or symbolic, such as u+x (applied to the file's mode, 0644 for a new file)",
);
const BACKUP: Param = p(
    "backup",
    Bool,
    "keep the file it replaces as PATH.PID.YYYY-MM-DD@HH:MM:SS~ (registered as `backup_file`)",
);
const VALIDATE: Param = p(
    "validate",
    Str,
    "a command that must accept the new file before it replaces the old, with %s for it (such as `visudo -cf %s`)",
);
const CREATES: Param = p("creates", Str, "skip the task when this path exists");
const REMOVES: Param = p("removes", Str, "run only when this path exists");
const CHDIR: Param = p("chdir", Str, "run in this folder");
const STDIN: Param = p("stdin", Str, "text given to the command on standard input");
const FOLLOW_DEST: Param = p(
    "follow",
    Bool,
    "true: a symbolic link at `dest` keeps pointing where it does and its target gets the file; false (default, as Ansible): the link is replaced by the file",
);
const STDIN_ADD_NEWLINE: Param = p(
    "stdin_add_newline",
    Bool,
    "end `stdin` with a newline (default true)",
);
/// The hash schemes of an htpasswd file drover makes and verifies, as passlib names them.
const HASH_SCHEMES: &[&str] = &[
    "apr_md5_crypt",
    "md5_crypt",
    "sha256_crypt",
    "sha512_crypt",
    "bcrypt",
    "ldap_sha1",
    "plaintext",
];
const STRIP_EMPTY_ENDS: Param = p(
    "strip_empty_ends",
    Bool,
    "false: keep the trailing newlines of stdout and stderr (default true: stripped)",
);
const UNIT_STATE: Param = p(
    "state",
    Choice(&["started", "stopped", "restarted", "reloaded"]),
    "started and stopped change only what differs; restarted and reloaded always act",
);
const ENABLED: Param = p("enabled", Bool, "whether the unit starts at boot");
const DAEMON_RELOAD: Param = p("daemon_reload", Bool, "run `systemctl daemon-reload` first");
const PATH_NAMES: [Param; 3] = [
    p("path", Str, "the file (also `dest`, `name`)"),
    p("dest", Str, "the same as `path`"),
    p("name", Str, "the same as `path`"),
];

/// A module that takes named parameters.
const fn module(
    kind: ModuleKind,
    name: &'static str,
    summary: &'static str,
    params: &'static [Param],
    check_mode: CheckMode,
    diff: bool,
) -> Spec {
    Spec {
        kind,
        name,
        aliases: &[],
        summary,
        params,
        free_form: false,
        any_params: false,
        hands_to: &[],
        check_mode,
        diff,
    }
}

impl Spec {
    const fn aliases(self, aliases: &'static [&'static str]) -> Spec {
        Spec { aliases, ..self }
    }

    const fn free_form(self) -> Spec {
        Spec {
            free_form: true,
            ..self
        }
    }

    const fn any_params(self) -> Spec {
        Spec {
            any_params: true,
            ..self
        }
    }

    const fn hands_to(self, hands_to: &'static [&'static str]) -> Spec {
        Spec { hands_to, ..self }
    }

    /// The parameter `name` as this module takes it: its own, else that of the first module it
    /// hands parameters on to that has one of that name, else an SELinux context parameter.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        (self.params.iter().find(|p| p.called(name)))
            .or_else(|| {
                (self.hands_to.iter())
                    .filter_map(|m| find(m))
                    .find_map(|spec| spec.params.iter().find(|p| p.called(name)))
            })
            .or_else(|| self.context_params().iter().find(|p| p.called(name)))
    }

    /// Every parameter name it takes (each name, then its aliases), its own first, each once.
    pub fn param_names(&self) -> Vec<&'static str> {
        let handed = (self.hands_to.iter())
            .filter_map(|m| find(m))
            .flat_map(|spec| spec.params.iter());
        let mut names: Vec<&'static str> = Vec::new();
        for p in (self.params.iter().chain(handed)).chain(self.context_params()) {
            for name in std::iter::once(&p.name).chain(p.aliases) {
                if !names.contains(name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// `args` with each parameter given by an alias under its own name, so a module reads one
    /// name. Where both are given the own name wins, as Ansible warns and keeps it.
    pub fn canonical_args(&self, args: &mut serde_json::Map<String, Json>) {
        let aliased: Vec<(String, &'static str)> = (args.keys())
            .filter_map(|k| {
                let param = self.param(k)?;
                (param.name != k).then(|| (k.clone(), param.name))
            })
            .collect();
        for (alias, name) in aliased {
            if let Some(value) = args.remove(&alias) {
                args.entry(name).or_insert(value);
            }
        }
    }

    /// Writes a file it gives an owner and a mode: then, as Ansible's file arguments go
    /// together, it takes the SELinux context parameters too ([`SELINUX_CONTEXT`]).
    pub fn writes_files(&self) -> bool {
        let named = |n: &str| self.params.iter().find(|p| p.name == n);
        named("owner").is_some_and(|p| p.ty == Str) && named("mode").is_some()
    }

    fn context_params(&self) -> &'static [Param] {
        if self.writes_files() {
            SELINUX_CONTEXT
        } else {
            &[]
        }
    }
}

/// What a CSR says, for `openssl_csr` and `openssl_csr_pipe`.
macro_rules! csr_subject_params {
    () => {
        [
            p("privatekey_path", Str, "the private key on the host"),
            p("privatekey_passphrase", Str, "the key's passphrase (in openssl's environment, never on a command line)"),
            p("common_name", Str, "CN"),
            p("country_name", Str, "C"),
            p("state_or_province_name", Str, "ST"),
            p("locality_name", Str, "L"),
            p("organization_name", Str, "O"),
            p("organizational_unit_name", Str, "OU"),
            p("email_address", Str, "emailAddress"),
            p("subject", Dict, "more of the subject, name -> value (CN, O, ...)"),
            p("subject_alt_name", List, "names such as DNS:example.com, IP:192.0.2.1"),
            p("subject_alt_name_critical", Bool, "mark subjectAltName critical"),
            p("use_common_name_for_san", Bool, "without subject_alt_name, use DNS:<common_name> (default true)"),
            p("key_usage", List, "keyUsage, as community.crypto names them (digitalSignature, Key Encipherment, ...)"),
            p("key_usage_critical", Bool, "mark keyUsage critical"),
            p("extended_key_usage", List, "extendedKeyUsage (serverAuth, TLS Web Client Authentication, ...)"),
            p("extended_key_usage_critical", Bool, "mark extendedKeyUsage critical"),
            p("basic_constraints", List, "basicConstraints (CA:TRUE, pathlen:0)"),
            p("basic_constraints_critical", Bool, "mark basicConstraints critical"),
            p("digest", Str, "the signature's digest (default sha256)"),
            p("select_crypto_backend", Choice(&["auto", "cryptography"]), "accepted for compatibility: drover always uses the host's openssl"),
        ]
    };
}

const CSR_PARAMS: &[Param] = &{
    let subject = csr_subject_params!();
    let file = [
        req("path", Str, "the CSR file"),
        p("force", Bool, "make it anew every time"),
        p("state", Choice(&["present", "absent"]), "absent removes it"),
        p("mode", AnyMode, "the file's mode"),
        p("owner", Str, "the file's owner"),
        p("group", Str, "the file's group"),
        p("return_content", Bool, "register the CSR as `csr`"),
    ];
    concat_params::<21, 7, 28>(subject, file)
};

const CSR_PIPE_PARAMS: &[Param] = &{
    let subject = csr_subject_params!();
    let pipe = [p(
        "content",
        Str,
        "the CSR made before, kept when it still matches",
    )];
    concat_params::<21, 1, 22>(subject, pipe)
};

/// Two parameter lists as one, at compile time.
const fn concat_params<const A: usize, const B: usize, const N: usize>(
    a: [Param; A],
    b: [Param; B],
) -> [Param; N] {
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// The rule types of a PAM service file (`-` in front: no complaint when the module is missing), as
/// `pamd` takes them.
pub const PAM_TYPES: &[&str] = &[
    "account",
    "-account",
    "auth",
    "-auth",
    "password",
    "-password",
    "session",
    "-session",
];

/// Every module drover knows.
pub const MODULES: &[Spec] = &[
    module(
        ModuleKind::Command,
        "command",
        "Runs a command without a shell: its words are quoted one by one, so `;`, `|` or `$(...)` in a value never run.",
        &[
            p(
                "cmd",
                Str,
                "the command line, split into words as Ansible splits it",
            ),
            p("argv", List, "the command as a list of words"),
            CHDIR,
            CREATES,
            REMOVES,
            STDIN,
            STDIN_ADD_NEWLINE,
            STRIP_EMPTY_ENDS,
        ],
        CheckMode::Skipped,
        false,
    )
    .free_form(),
    module(
        ModuleKind::Shell,
        "shell",
        "Runs a command line through /bin/sh (or `executable`): pipes, redirections and variables work.",
        &[
            p("cmd", Str, "the command line"),
            CHDIR,
            CREATES,
            REMOVES,
            STDIN,
            STDIN_ADD_NEWLINE,
            STRIP_EMPTY_ENDS,
            p("executable", Str, "the shell to run it with"),
        ],
        CheckMode::Skipped,
        false,
    )
    .free_form(),
    module(
        ModuleKind::Copy,
        "copy",
        "Puts a file from the role's files/ (or `content`) on the host, through an exclusive temporary file.",
        &[
            p(
                "src",
                Str,
                "the file, found in files/ of the role or beside the playbook; a folder copies its tree (`dir` the folder itself, `dir/` what it holds)",
            ),
            p("content", Str, "the file's text, instead of `src`"),
            p("directory_mode", Mode, "with a folder as `src`: the mode of the folders it makes"),
            p("force", Bool, "false: leave a file already there as it is (default true: replace it when it differs)"),
            p("remote_src", Bool, "`src` is a file on the host, copied there (only when it differs)"),
            p("decrypt", Bool, "false: a vault-encrypted `src` is copied encrypted (default true: decrypted)"),
            req("dest", Str, "where it goes on the host"),
            FOLLOW_DEST,
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
            VALIDATE,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Template,
        "template",
        "Renders a template from the role's templates/ with the host's variables and puts it on the host.",
        &[
            req(
                "src",
                Str,
                "the template, found in templates/ of the role or beside the playbook",
            ),
            req("dest", Str, "where it goes on the host"),
            FOLLOW_DEST,
            p("force", Bool, "false: leave a file already there as it is (default true)"),
            p("trim_blocks", Bool, "drop the newline after a block tag (default true)"),
            p("lstrip_blocks", Bool, "strip the spaces before a block tag on its line (default false)"),
            p("variable_start_string", Str, "instead of `{{`"),
            p("variable_end_string", Str, "instead of `}}`"),
            p("block_start_string", Str, "instead of `{%`"),
            p("block_end_string", Str, "instead of `%}`"),
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
            VALIDATE,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::File,
        "file",
        "Makes a path a file, a folder, a symlink, or absent; sets its mode and owner.",
        &[
            PATH_NAMES[0],
            PATH_NAMES[1],
            PATH_NAMES[2],
            p(
                "state",
                Choice(&["file", "directory", "absent", "touch", "link"]),
                "what the path must be (default file: it must exist)",
            ),
            p("mode", AnyMode, "permissions: octal, such as \"0644\", or symbolic, such as u=rwX,g=rX,o="),
            OWNER,
            GROUP,
            p("src", Str, "the target of a link"),
            p("recurse", Bool, "with state directory: the mode, owner and group of everything under it too"),
            p("force", Bool, "with state link: replace a file or an empty folder in the link's place, and link to a `src` that does not exist"),
            p("follow", Bool, "true (default, as Ansible): when the path is a symbolic link, its target gets the mode, owner, group and times; false is refused on a link (drover never sets a link's own attributes). Links under a folder with `recurse` are not followed"),
            p("access_time", Str, "now, preserve or YYYYMMDDhhmm.ss (host time); touch's default is now, else preserve"),
            p("access_time_format", Str, "only the default %Y%m%d%H%M.%S"),
            p("modification_time", Str, "now, preserve or YYYYMMDDhhmm.ss (host time); touch's default is now, else preserve"),
            p("modification_time_format", Str, "only the default %Y%m%d%H%M.%S"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Lineinfile,
        "lineinfile",
        "Makes sure a line is in a file (replacing the line `regexp` matches), or absent.",
        &[
            PATH_NAMES[0].aka(&["destfile", "name"]),
            PATH_NAMES[1],
            p("line", Str, "the line").aka(&["value"]),
            p(
                "regexp",
                Str,
                "a regular expression for the line to replace or remove",
            ).aka(&["regex"]),
            p(
                "search_string",
                Str,
                "a literal string found anywhere in the line to replace or remove (not with regexp)",
            ),
            p(
                "state",
                Choice(&["present", "absent"]),
                "present (default) or absent",
            ),
            p(
                "insertafter",
                Str,
                "EOF, or a regular expression the line goes after (its last match; the first with firstmatch)",
            ),
            p(
                "insertbefore",
                Str,
                "BOF, or a regular expression the line goes before (its last match; the first with firstmatch)",
            ),
            p("backrefs", Bool, "expand `\\1` and `\\g<name>` in `line` with the regexp's groups; when the regexp matches no line, nothing is added"),
            p("firstmatch", Bool, "the first line the regexp, insertafter or insertbefore matches, not the last"),
            p("create", Bool, "create the file when it is missing"),
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
            VALIDATE,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Replace,
        "replace",
        "Replaces every match of a regular expression in a file on the host (as Python's re.sub with MULTILINE), optionally only between `after` and `before`.",
        &[
            req("path", Str, "the file").aka(&["dest", "destfile", "name"]),
            req("regexp", Str, "the regular expression; `^` and `$` match at each line"),
            p("replace", Str, "the replacement (`\\1`, `\\g<name>`); empty by default"),
            p("after", Str, "only replace after the first match of this expression"),
            p("before", Str, "only replace before the first match of this expression (after `after`)"),
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
            VALIDATE,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Apt,
        "apt",
        "Installs, upgrades or removes Debian packages with apt-get; check mode asks apt to simulate.",
        &[
            p("name", List, "packages (also `pkg`, `package`)"),
            p("pkg", List, "the same as `name`"),
            p("package", List, "the same as `name`"),
            p(
                "state",
                Choice(&["present", "installed", "latest", "absent", "removed"]),
                "present installs what is missing, latest upgrades, absent removes",
            ),
            p("update_cache", Bool, "run apt-get update first").aka(&["update-cache"]),
            p(
                "cache_valid_time",
                Number,
                "skip the update when the lists are younger than this many seconds",
            ),
            p(
                "upgrade",
                Choice(&["dist", "full", "safe", "yes", "no", "true", "false"]),
                "upgrade everything: dist/full (dist-upgrade) or safe/yes (upgrade)",
            ),
            p(
                "only_upgrade",
                Bool,
                "upgrade the named packages only if they are installed",
            ),
            p("autoremove", Bool, "remove packages nothing needs any more"),
            p("purge", Bool, "with absent or autoremove, remove configuration files too"),
            p("autoclean", Bool, "remove downloaded packages that can no longer be downloaded"),
            p("clean", Bool, "remove every downloaded package file"),
            p("deb", Str, "a .deb file on the host, or a URL the host fetches, installed with its dependencies unless that version is installed"),
            p("install_recommends", Bool, "install recommended packages too (true) or not (false); apt's setting when left out").aka(&["install-recommends"]),
            p("default_release", Str, "the release to install from (`-t`), such as bookworm-backports").aka(&["default-release"]),
            p("dpkg_options", Str, "dpkg's options, comma-separated (default force-confdef,force-confold)"),
            p("allow_downgrade", Bool, "allow installing an older version").aka(&["allow-downgrade", "allow_downgrades", "allow-downgrades"]),
            p("allow_unauthenticated", Bool, "allow packages apt cannot authenticate").aka(&["allow-unauthenticated"]),
            p("allow_change_held_packages", Bool, "allow installing or removing held packages (`--allow-change-held-packages`)"),
            p("force", Bool, "apt-get's `--force-yes`: unauthenticated packages, downgrades and held packages allowed (deprecated by apt, as in Ansible)"),
            p("fail_on_autoremove", Bool, "fail rather than remove a package to install another (`--no-remove`)"),
            p("update_cache_retries", Number, "tries of `apt-get update` before failing (default 5)"),
            p("update_cache_retry_max_delay", Number, "the longest wait between tries, in seconds; waits double from 1 (default 12)"),
            p("lock_timeout", Number, "seconds to wait for another apt or dpkg to finish"),
            p("policy_rc_d", Number, "the exit code /usr/sbin/policy-rc.d gives while apt runs (101: installed services are not started); one already there is put back afterwards"),
            p(
                "force_apt_get",
                Bool,
                "accepted for compatibility: drover always uses apt-get",
            ),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Package,
        "package",
        "Installs or removes packages with the host's package manager (apt, dnf/yum, zypper or pacman, from the `ansible_pkg_mgr` fact or `use`).",
        &[
            req("name", List, "packages"),
            p(
                "state",
                Choice(&["present", "installed", "latest", "absent", "removed"]),
                "present installs what is missing, latest upgrades, absent removes",
            ),
            p("use", Choice(&["auto", "apt", "dnf", "yum", "zypper", "pacman"]), "the package manager: auto (the host's `ansible_pkg_mgr` fact; apt without facts) or one named"),
        ],
        CheckMode::Predicts,
        false,
    )
    // As Ansible's package, which hands every other parameter to the module it runs.
    .hands_to(&["apt", "dnf", "zypper", "pacman"]),
    module(
        ModuleKind::Service,
        "service",
        "Starts, stops, restarts or reloads a systemd unit, and enables it or not.",
        &[
            p("name", Str, "the unit; may be left out with only `daemon_reload` (Ansible hands `service` to systemd on these hosts)"),
            UNIT_STATE,
            ENABLED,
            DAEMON_RELOAD,
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Systemd,
        "systemd",
        "As `service`, and masks or unmasks a unit, in the system manager, a user's own or every user's defaults (`scope`); `name` may be left out with only `daemon_reload` or `daemon_reexec`.",
        &[
            p("name", Str, "the unit").aka(&["service", "unit"]),
            UNIT_STATE,
            ENABLED,
            p("masked", Bool, "mask the unit (it cannot be started) or unmask it"),
            DAEMON_RELOAD.aka(&["daemon-reload"]),
            p("daemon_reexec", Bool, "run `systemctl daemon-reexec` first").aka(&["daemon-reexec"]),
            p("scope", Choice(&["system", "user", "global"]), "the system manager (default), the user's own (`systemctl --user`, as the user the task runs as; XDG_RUNTIME_DIR is /run/user/UID when the session has none), or every user's defaults (`--global`: enabled and masked only)"),
            p("no_block", Bool, "start, stop, restart or reload without waiting for the job (`--no-block`)"),
            p("force", Bool, "enable, disable or mask over conflicting symlinks (`--force`)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["systemd_service", "ansible.builtin.systemd_service"]),
    module(
        ModuleKind::DockerCompose,
        "docker_compose",
        "Brings a compose project up, stops, restarts or takes it down with docker compose; a change is followed by a new snapshot for the roll call.",
        &[
            req("project_src", Str, "the folder holding the compose file"),
            p("files", List, "compose files in that folder (-f), instead of the default one"),
            p("project_name", Str, "the project's name (-p)"),
            p("env_files", List, "environment files (--env-file)"),
            p("profiles", List, "profiles to enable (--profile)"),
            p("state", Choice(&["present", "absent", "stopped", "restarted"]), "present (up -d), stopped (stop), restarted (restart) or absent (down)"),
            p("services", List, "only these services"),
            p("pull", Choice(&["always", "missing", "never", "policy", "true", "false", "yes", "no"]), "always pulls first; never (--pull never); missing and policy leave it to Compose; true is always"),
            p("build", Choice(&["always", "never", "policy", "true", "false", "yes", "no"]), "always (--build), never (--no-build) or Compose's policy; the older module's true is always, false the policy"),
            p("recreate", Choice(&["always", "never", "auto", "smart"]), "always (--force-recreate), never (--no-recreate) or auto (the older module's smart)"),
            p("restarted", Bool, "the older module's way: with state present, restart the services after bringing them up"),
            p("stopped", Bool, "the older module's way: with state present, stop the services (as state stopped)"),
            p("dependencies", Bool, "false starts the services without their dependencies (--no-deps)"),
            p("remove_orphans", Bool, "remove containers of services no longer in the file"),
            p("remove_volumes", Bool, "with absent: remove the volumes too (-v)"),
            p("remove_images", Choice(&["all", "local"]), "with absent: remove images (--rmi)"),
            p("wait", Bool, "wait until the services are running or healthy (--wait, Compose v2)"),
            p("wait_timeout", Number, "how long --wait waits, in seconds"),
            p("timeout", Number, "seconds to wait for containers to stop (--timeout)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&[
            "docker_compose_v2",
            "community.docker.docker_compose",
            "community.docker.docker_compose_v2",
        ]),
    module(
        ModuleKind::GitConfig,
        "git_config",
        "One setting of git's configuration in a scope (system by default, global, local in `repo`, or a `file`), set or unset with git config only when it differs.",
        &[
            req("name", Str, "the setting, such as user.name"),
            p("value", Str, "its value (needed with present)"),
            p("scope", Choice(&["system", "global", "local", "file"]), "where: system (default), global (the task's user's), local (needs `repo`), file (needs `file`)"),
            p("repo", Str, "the repository, for scope local"),
            p("file", Str, "the configuration file, for scope file"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent (every value unset)"),
            p("add_mode", Choice(&["replace-all", "add"]), "replace-all (default) makes it the only value; add keeps the others"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.git_config"]),
    module(
        ModuleKind::Git,
        "git",
        "Keeps a checkout of a repository at a version (branch, tag or commit): cloned when missing, fetched and moved otherwise; local changes are kept unless force. Registers before and after.",
        &[
            req("repo", Str, "the repository's URL or path").aka(&["name"]),
            req("dest", Str, "the checkout's folder on the host"),
            p("version", Str, "a branch, tag or commit (default HEAD: the remote's default branch)"),
            p("remote", Str, "the remote's name (default origin)"),
            p("force", Bool, "throw away local changes to tracked files"),
            p("depth", Number, "a shallow clone of this many commits"),
            p("clone", Bool, "clone when missing (default true)"),
            p("update", Bool, "fetch and move to the version (default true)"),
            p("bare", Bool, "a bare repository"),
            p("recursive", Bool, "submodules too (default true)"),
            p("single_branch", Bool, "clone only the version's branch"),
            p("refspec", Str, "more to fetch, such as refs/pull/*"),
            p("executable", Str, "the git program"),
            p("accept_hostkey", Bool, "accept any SSH host key (StrictHostKeyChecking=no)"),
            p("accept_newhostkey", Bool, "accept a host key not known yet (StrictHostKeyChecking=accept-new)"),
            p("key_file", Str, "the SSH key on the host"),
            p("ssh_opts", Str, "more ssh options"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Mount,
        "mount",
        "Keeps a mount point's line in fstab and the mount itself (mounted, unmounted, present, absent, remounted, ephemeral), as ansible.posix's module does.",
        &[
            req("path", Str, "the mount point").aka(&["name"]),
            req("state", Choice(&["mounted", "unmounted", "present", "absent", "remounted", "ephemeral"]), "mounted (fstab and mounted), present (fstab only), unmounted, absent (neither), remounted, ephemeral (mounted, not in fstab)"),
            p("src", Str, "the device, share or label (needed to mount or write the line)"),
            p("fstype", Str, "the file system type"),
            p("opts", Str, "mount options (default defaults)"),
            p("dump", Str, "fstab's dump field (default 0)"),
            p("passno", Str, "fstab's pass field (default 0)"),
            p("fstab", Str, "the fstab file (default /etc/fstab)"),
            p("boot", Bool, "false adds noauto (not mounted at boot)"),
            BACKUP,
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["ansible.posix.mount"]),
    module(
        ModuleKind::Archive,
        "archive",
        "Packs files and folders on the host into a tar (gz, bz2, xz) or zip archive, or compresses one file, remade only when missing or older than a source.",
        &[
            req("path", List, "absolute paths of the files and folders"),
            p("dest", Str, "the archive (default: the one path with the format's extension)"),
            p("format", Choice(&["gz", "bz2", "xz", "tar", "zip"]), "gz (default), bz2, xz, tar or zip"),
            p("exclude_path", List, "paths to leave out"),
            p("force_archive", Bool, "a tar even for one file (instead of compressing it)"),
            p("remove", Bool, "delete the sources once archived"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.archive"]),
    module(
        ModuleKind::Pip,
        "pip",
        "Installs, upgrades or removes Python packages with the host's pip or in a virtualenv (made first), changing only what differs.",
        &[
            p("name", List, "packages: names, name==version, paths or URLs"),
            p("version", Str, "the version of the one `name`"),
            p("requirements", Str, "a requirements file on the host"),
            p("state", Choice(&["present", "latest", "absent", "forcereinstall"]), "present installs what is missing, latest upgrades, absent removes, forcereinstall reinstalls"),
            p("virtualenv", Str, "a virtualenv folder (made when missing)"),
            p("virtualenv_command", Str, "the command that makes it (default virtualenv; python3 -m venv works)"),
            p("virtualenv_python", Str, "the Python for virtualenv's -p"),
            p("virtualenv_site_packages", Bool, "let it see the system's packages"),
            p("extra_args", Str, "more pip options"),
            p("executable", Str, "the pip to run (instead of pip3)"),
            p("chdir", Str, "run pip in this folder"),
            p("editable", Bool, "install in editable mode (-e)"),
            p("break_system_packages", Bool, "let pip change the system's Python (--break-system-packages)"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Npm,
        "npm",
        "Installs, updates or removes Node.js packages with the host's npm, globally or in a project folder (made first), changing only what npm does not already list.",
        &[
            p("name", Str, "the package (without it: the dependencies of the folder's package.json)"),
            p("version", Str, "the version (or range) of `name`"),
            p("path", Str, "the project folder; required unless `global`"),
            p("global", Bool, "install for the whole host (--global)"),
            p("state", Choice(&["present", "latest", "absent"]), "present installs what is missing or invalid, latest also updates what `npm outdated` names, absent uninstalls `name`"),
            p("ci", Bool, "run `npm ci` (the lock file, always reported changed)"),
            p("production", Bool, "leave out devDependencies (--production)"),
            p("registry", Str, "the registry's URL (--registry)"),
            p("executable", Str, "the npm to run, with any options of its own"),
            p("ignore_scripts", Bool, "run no package scripts (--ignore-scripts)"),
            p("unsafe_perm", Bool, "--unsafe-perm"),
            p("no_optional", Bool, "leave out optional dependencies (--no-optional)"),
            p("no_bin_links", Bool, "make no links to the packages' programs (--no-bin-links)"),
            p("force", Bool, "--force"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.npm"]),
    module(
        ModuleKind::Nmcli,
        "nmcli",
        "Keeps a NetworkManager connection profile as the task describes it (nmcli; read setting by setting, modified only when one differs), and up or down.",
        &[
            req("conn_name", Str, "the profile's name"),
            req("state", Choice(&["present", "absent", "up", "down"]), "present makes or modifies it, absent deletes it, up also activates it, down deactivates it"),
            p("type", Choice(&["ethernet", "dummy", "bridge", "bridge-slave", "bond", "bond-slave", "vlan", "generic"]), "the connection type (needed to make one)"),
            p("ifname", Str, "the interface it applies to (default: conn_name)"),
            p("autoconnect", Bool, "start it at boot (default true)"),
            p("zone", Str, "its firewalld zone"),
            p("ip4", List, "IPv4 addresses with prefix length (ipv4.method becomes manual)"),
            p("gw4", Str, "the IPv4 gateway"),
            p("dns4", List, "IPv4 DNS servers"),
            p("dns4_search", List, "DNS search domains (IPv4)"),
            p("dns4_ignore_auto", Bool, "ignore DNS servers from DHCP (default false)"),
            p("gw4_ignore_auto", Bool, "ignore routes from DHCP (default false)"),
            p("route_metric4", Number, "the IPv4 routes' metric"),
            p("never_default4", Bool, "never the default route (default false)"),
            p("method4", Choice(&["auto", "link-local", "manual", "shared", "disabled"]), "the IPv4 method (default manual with ip4, disabled for a dummy without)"),
            p("may_fail4", Bool, "the profile may come up without IPv4 (default true)"),
            p("ip6", List, "IPv6 addresses with prefix length"),
            p("gw6", Str, "the IPv6 gateway"),
            p("dns6", List, "IPv6 DNS servers"),
            p("dns6_search", List, "DNS search domains (IPv6)"),
            p("dns6_ignore_auto", Bool, "ignore DNS servers from SLAAC/DHCPv6 (default false)"),
            p("gw6_ignore_auto", Bool, "ignore routes from SLAAC/DHCPv6 (default false)"),
            p("method6", Choice(&["ignore", "auto", "dhcp", "link-local", "manual", "shared", "disabled"]), "the IPv6 method"),
            p("mac", Str, "the MAC address to use (cloned MAC; a bridge's own MAC)"),
            p("mtu", Number, "the MTU (ethernet and dummy)"),
            p("master", Str, "the bridge or bond a bridge-slave or bond-slave belongs to"),
            p("mode", Choice(&["802.3ad", "active-backup", "balance-alb", "balance-rr", "balance-tlb", "balance-xor", "broadcast"]), "a bond's mode (default balance-rr)"),
            p("miimon", Number, "a bond's link monitoring interval (ms)"),
            p("downdelay", Number, "a bond's down delay (ms)"),
            p("updelay", Number, "a bond's up delay (ms)"),
            p("primary", Str, "a bond's primary interface"),
            p("stp", Bool, "a bridge's spanning tree (default true)"),
            p("priority", Number, "a bridge's STP priority (default 128)"),
            p("forwarddelay", Number, "a bridge's forward delay (default 15)"),
            p("hellotime", Number, "a bridge's hello time (default 2)"),
            p("maxage", Number, "a bridge's max age (default 20)"),
            p("ageingtime", Number, "a bridge's MAC ageing time (default 300)"),
            p("path_cost", Number, "a bridge port's path cost (default 100)"),
            p("hairpin", Bool, "a bridge port's hairpin mode (default false)"),
            p("slavepriority", Number, "a bridge port's STP priority (default 32)"),
            p("vlanid", Number, "a VLAN's id"),
            p("vlandev", Str, "a VLAN's parent interface"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.nmcli"]),
    module(
        ModuleKind::Setup,
        "setup",
        "Gathers the host's facts as a task (as gather_facts does before a play): set for later tasks and registered as `ansible_facts`.",
        &[
            p("gather_subset", List, "collectors as Ansible names them: all (default), min, hardware, network, virtual, a minimal one (platform, distribution, user, ...) or a fact's name (mounts, default_ipv4); !NAME leaves one out; Ansible's python, selinux, caps and facter subsets are refused"),
            p("filter", List, "only facts whose names match these globs, such as ansible_distribution*"),
            p("gather_timeout", Number, "seconds to wait for the facts (default 60)"),
            p("fact_path", Str, "folder of local *.fact files read into ansible_local (default /etc/ansible/facts.d; executable ones are run)"),
            p("parallel", Bool, "gather_facts: run the fact modules side by side; drover's facts come from one gatherer, so there is nothing to run beside it either way"),
        ],
        CheckMode::Runs,
        false,
    )
    .aliases(&["gather_facts", "ansible.builtin.gather_facts"]),
    module(
        ModuleKind::DockerContainer,
        "docker_container",
        "Keeps one container as the task describes it (docker CLI; compared with docker inspect, recreated only when a named setting or the image differs); warns of restart policies that stay down after a Docker upgrade or reboot.",
        &[
            req("name", Str, "the container's name"),
            p("image", Str, "the image (pulled when missing, unless `pull: never`)"),
            p("state", Choice(&["started", "present", "stopped", "absent"]), "started (default) runs it, present creates it, stopped stops it, absent removes it"),
            p("pull", Choice(&["missing", "always", "never", "true", "false", "yes", "no"]), "when to pull the image: missing (default), always (true) or never"),
            p("image_name_mismatch", Choice(&["recreate", "ignore"]), "recreate (default, as community.docker 4) a container made from the same image under another name; ignore keeps it"),
            p("recreate", Bool, "recreate it even when nothing differs"),
            p("restart", Bool, "restart it when it is already running"),
            p("restart_policy", Choice(&["no", "on-failure", "always", "unless-stopped"]), "Docker's restart policy (drover warns of those that stay down)"),
            p("restart_retries", Number, "with on-failure: how many times"),
            p("ports", List, "published ports, [IP:][HOST:]CONTAINER[/PROTO]"),
            p("published_ports", List, "the same as `ports`"),
            p("exposed_ports", List, "ports to expose without publishing").aka(&["exposed", "expose"]),
            p("volumes", List, "binds and volumes, SOURCE:DEST[:MODE], or an anonymous volume's path"),
            p("env", Dict, "environment variables (values are text: quote booleans)"),
            p("env_file", Str, "a file of KEY=VALUE lines on the host"),
            p("labels", Dict, "labels"),
            p("networks", List, "networks to join: names, or mappings with name, aliases, ipv4_address"),
            p("network_mode", Str, "bridge, host, none, container:NAME or a network"),
            p("command", Any, "the command: a line (split as shlex does) or a list"),
            p("entrypoint", List, "the entrypoint's words"),
            p("healthcheck", Dict, "test, interval, timeout, retries, start_period"),
            p("user", Str, "USER[:GROUP] to run as"),
            p("hostname", Str, "the container's host name"),
            p("working_dir", Str, "the working folder"),
            p("devices", List, "HOST[:CONTAINER[:PERMISSIONS]]"),
            p("capabilities", List, "capabilities to add"),
            p("cap_drop", List, "capabilities to drop"),
            p("log_driver", Str, "the logging driver"),
            p("log_options", Dict, "the logging driver's options").aka(&["log_opt"]),
            p("memory", Str, "a memory limit, such as 512m"),
            p("memory_reservation", Str, "a soft memory limit"),
            p("memory_swap", Str, "memory plus swap limit"),
            p("shm_size", Str, "the size of /dev/shm"),
            p("cpus", Number, "how many CPUs it may use"),
            p("privileged", Bool, "give it every privilege"),
            p("read_only", Bool, "mount its root read-only"),
            p("init", Bool, "run an init as PID 1"),
            p("tty", Bool, "give it a terminal"),
            p("interactive", Bool, "keep its standard input open"),
            p("auto_remove", Bool, "remove it when it exits"),
            p("tmpfs", List, "tmpfs mounts, PATH[:OPTIONS]"),
            p("etc_hosts", Dict, "host name -> address lines for /etc/hosts"),
            p("dns_servers", List, "DNS servers"),
            p("volumes_from", List, "containers whose volumes it mounts"),
            p("links", List, "legacy links, NAME[:ALIAS]"),
            p("security_opts", List, "security options"),
            p("sysctls", Dict, "kernel settings"),
            p("ulimits", List, "NAME:SOFT[:HARD]"),
            p("groups", List, "more groups for its user"),
            p("pid_mode", Str, "the PID namespace"),
            p("ipc_mode", Str, "the IPC namespace"),
            p("runtime", Str, "the runtime (runc, nvidia, ...)"),
            p("stop_signal", Str, "the signal that stops it (SIGTERM by default)"),
            p("dns_search_domains", List, "DNS search domains"),
            p("cpu_shares", Number, "its relative CPU weight"),
            p("purge_networks", Bool, "leave every network not in `networks` (the container is recreated on the named ones only), as `comparisons: {networks: strict}` does"),
            p("device_requests", List, "devices such as GPUs, as the docker CLI's --gpus makes them: mappings of driver, count (-1: all), device_ids, capabilities (one list; `gpu` is always added), options"),
            p("stop_timeout", Number, "seconds to wait for it to stop"),
            p("force_kill", Bool, "kill it instead of stopping it").aka(&["forcekill"]),
            p("keep_volumes", Bool, "keep its anonymous volumes when it is removed (default true)"),
            p("detach", Bool, "run in the background (true; false is refused)"),
p("comparisons", Dict, "per option (or `*`): strict, allow_more_present or ignore, how it is compared with the container (`image: ignore` keeps a container on an older image)"),
            p("mounts", List, "mounts as mappings of `type` (bind, volume or tmpfs; default volume), `source`, `target`, `read_only` (--mount), compared with what docker inspect shows"),
                        p("networks_cli_compatible", Bool, "true (the default, and the only way since community.docker 4): the networks named are the container's, as `docker run --network` makes them"),
            p("container_default_behavior", Choice(&["no_defaults", "compatibility"]), "compatibility compares privileged, read_only, init, tty, interactive, auto_remove with false when not given"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.docker.docker_container"]),
    module(
        ModuleKind::DockerNetwork,
        "docker_network",
        "Keeps a Docker network as the task describes it (made, remade when a setting differs, removed) and which containers are connected to it.",
        &[
            req("name", Str, "the network's name").aka(&["network_name"]),
            p("state", Choice(&["present", "absent"]), "present makes it, absent removes it"),
            p("driver", Str, "its driver (bridge, overlay, macvlan, ...)"),
            p("driver_options", Dict, "the driver's options"),
            p("ipam_driver", Str, "its IPAM driver"),
            p("ipam_config", List, "address pools: mappings with subnet, gateway, iprange"),
            p("internal", Bool, "no access to the outside"),
            p("attachable", Bool, "standalone containers may join (overlay)"),
            p("enable_ipv6", Bool, "give it IPv6"),
            p("labels", Dict, "labels"),
            p("connected", List, "containers to connect to it").aka(&["containers"]),
            p("appends", Bool, "keep other connected containers (otherwise they are disconnected)").aka(&["incremental"]),
            p("force", Bool, "disconnect attached containers to remove or remake it"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.docker.docker_network"]),
    module(
        ModuleKind::DockerVolume,
        "docker_volume",
        "Keeps a named Docker volume (made, removed; remade only as `recreate` says, since it holds data).",
        &[
            p("volume_name", Str, "the volume's name (also `name`)"),
            p("name", Str, "the same as `volume_name`"),
            p("state", Choice(&["present", "absent"]), "present makes it, absent removes it"),
            p("driver", Str, "its driver (local by default)"),
            p("driver_options", Dict, "the driver's options"),
            p("labels", Dict, "labels"),
            p("recreate", Choice(&["never", "options-changed", "always"]), "when to remake it: never (default), options-changed or always"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.docker.docker_volume"]),
    module(
        ModuleKind::DockerPrune,
        "docker_prune",
        "Removes unused containers, images, networks, volumes and build cache (`docker ... prune --force`), each only when asked, with docker's filters; registers what went and the bytes freed. Skipped under --check, as community.docker's is.",
        &[
            p("containers", Bool, "prune stopped containers"),
            p("containers_filters", Dict, "filters, such as {until: 24h, label: app=x} (a list gives the filter several times)"),
            p("images", Bool, "prune unused images (dangling only, unless images_filters says dangling: false)"),
            p("images_filters", Dict, "filters; dangling: false prunes every unused image"),
            p("networks", Bool, "prune unused networks"),
            p("networks_filters", Dict, "filters"),
            p("volumes", Bool, "prune unused volumes (anonymous only on Docker 23 and later, unless volumes_filters says all: true)"),
            p("volumes_filters", Dict, "filters"),
            p("builder_cache", Bool, "prune the build cache"),
            p("builder_cache_all", Bool, "all of the build cache, not only dangling entries"),
            p("builder_cache_keep_storage", Str, "keep this much cache (`1GB`)"),
        ],
        CheckMode::Skipped,
        false,
    )
    .aliases(&["community.docker.docker_prune"]),
    module(
        ModuleKind::DockerContainerInfo,
        "docker_container_info",
        "Reads a container (register it: `exists`, `container` as docker inspect shows it), changing nothing.",
        &[req("name", Str, "the container's name or id")],
        CheckMode::Runs,
        false,
    )
    .aliases(&["community.docker.docker_container_info"]),
    module(
        ModuleKind::DockerContainerExec,
        "docker_container_exec",
        "Runs a command in a running container with `docker exec`, its words as they are (no shell); the command's exit code is registered as `rc` (not a failure, as community.docker reports it), with `stdout` and `stderr`.",
        &[
            req("container", Str, "the container's name or id"),
            p("argv", List, "the command as words (or `command`)"),
            p("command", Str, "the command, split into words as a shell would (no shell runs it)"),
            p("chdir", Str, "the folder it runs in (`-w`)"),
            p("user", Str, "the user it runs as (`-u`)"),
            p("env", Dict, "environment variables (string values)"),
            p("stdin", Str, "text given on standard input (`-i`)"),
            STDIN_ADD_NEWLINE,
            p("strip_empty_ends", Bool, "drop trailing newlines of stdout and stderr (default true)"),
            p("tty", Bool, "allocate a terminal (`-t`)"),
            p("detach", Bool, "start it and return at once (`-d`); nothing is registered but that it ran"),
        ],
        CheckMode::Skipped,
        false,
    )
    .aliases(&["community.docker.docker_container_exec"]),
    module(
        ModuleKind::DockerImage,
        "docker_image",
        "Puts an image on the host: pulled, built from a folder on the host or loaded from an archive there when missing (or always, with force_source); tags and pushes it; or removes it.",
        &[
            req("name", Str, "the image's name, with or without its tag"),
            p("tag", Str, "its tag (default latest) when `name` has none"),
            p("state", Choice(&["present", "absent"]), "present puts it there, absent removes it"),
            p("source", Choice(&["pull", "build", "load", "local"]), "where it comes from (default: build with `build`, load with `load_path`, else pull)"),
            p("build", Dict, "path (a folder on the host), dockerfile, args, pull, nocache, target, network, platform, rm, labels"),
            p("load_path", Str, "an image archive on the host (docker save's)"),
            p("force_source", Bool, "pull, build or load even when the image is there"),
            p("force_absent", Bool, "remove it even when containers or tags use it"),
            p("repository", Str, "tag it also as this"),
            p("push", Bool, "push it (or `repository`) to its registry"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.docker.docker_image"]),
    module(
        ModuleKind::DockerImageInfo,
        "docker_image_info",
        "Reads images (register it: `images`, as docker inspect shows each that is on the host), changing nothing.",
        &[p("name", List, "images to read (all when left out)")],
        CheckMode::Runs,
        false,
    )
    .aliases(&["community.docker.docker_image_info"]),
    module(
        ModuleKind::DockerLogin,
        "docker_login",
        "Logs the host's Docker client in to a registry (the password on standard input, never shown), or out; an existing login is kept unless reauthorize.",
        &[
            p("registry_url", Str, "the registry (default Docker Hub)").aka(&["url"]),
            p("registry", Str, "the same as `registry_url`"),
            p("username", Str, "the user"),
            p("password", Str, "the password or token (never shown)"),
            p("reauthorize", Bool, "log in even when a login is there").aka(&["reauth"]),
            p("state", Choice(&["present", "absent"]), "present logs in, absent logs out"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.docker.docker_login"]),
    module(
        ModuleKind::Uri,
        "uri",
        "Makes an HTTP request from the host (with curl) and checks its status.",
        &[
            req("url", Str, "the URL"),
            p("method", Str, "GET (default), POST, ..."),
            p(
                "status_code",
                List,
                "the status codes that succeed (default 200)",
            ),
            p(
                "return_content",
                Bool,
                "keep the body in the result (`content`, and `json` when it is JSON)",
            ),
            p("body", Any, "the request body"),
            p(
                "body_format",
                Choice(&["json", "raw", "form-urlencoded"]),
                "json sends the body as JSON, form-urlencoded a mapping as form fields",
            ),
            p("headers", Dict, "request headers"),
            p("timeout", Number, "seconds (default 30)"),
            p(
                "validate_certs",
                Bool,
                "check the server's certificate (default true)",
            ),
            p("dest", Str, "keep the response in this file (replaced only when it differs; registered as `path`)"),
            p("creates", Str, "skip the request when this path exists"),
            p("removes", Str, "make the request only when this path exists"),
            p("follow_redirects", Choice(&["all", "safe", "none", "urllib2", "yes", "no"]), "safe (default): follow redirects of GET and HEAD only; all: every one; none: never"),
            p("use_proxy", Bool, "false: no proxy, whatever the environment says"),
            p("unix_socket", Str, "talk HTTP over this Unix socket (the Docker API's, for one)"),
            p("url_username", Str, "a user for HTTP basic authentication (also `user`)"),
            p("url_password", Str, "its password (also `password`); given to curl on standard input, never shown"),
            p("user", Str, "the same as `url_username`"),
            p("password", Str, "the same as `url_password`"),
            p("force_basic_auth", Bool, "send the credentials with the first request; otherwise they answer the server's 401 challenge"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::GetUrl,
        "get_url",
        "Downloads a URL on the host (with curl) through an exclusive temporary file, checking `checksum` before the file is put in place.",
        &[
            req("url", Str, "the URL"),
            req("dest", Str, "the file, or a folder (the URL's last part names the file)"),
            ANY_MODE,
            p("checksum", Str, "ALGORITHM:DIGEST (sha1, sha224, sha256, sha384, sha512, md5) the file must have"),
            p("force", Bool, "download even when the file is there (default false: a file there, with the checksum when one is given, is kept)"),
            p("timeout", Number, "seconds for the download (default 10)"),
            p("headers", Dict, "request headers"),
            p("validate_certs", Bool, "check the server's certificate (default true)"),
            OWNER,
            GROUP,
            p("url_username", Str, "a user for HTTP basic authentication").aka(&["username"]),
            p("url_password", Str, "its password; given to curl on standard input, never shown").aka(&["password"]),
            p("force_basic_auth", Bool, "send the credentials with the first request; otherwise they answer the server's 401 challenge"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::WaitFor,
        "wait_for",
        "Waits on the host for a port to open or close, or a file to appear (with a pattern) or go.",
        &[
            p("port", Number, "a TCP port"),
            p("host", Str, "the address to connect to (default 127.0.0.1)"),
            p("path", Str, "a file"),
            p(
                "state",
                Choice(&["started", "stopped", "present", "absent"]),
                "what to wait for (default started)",
            ),
            p("timeout", Number, "seconds before failing (default 300)"),
            p("delay", Number, "seconds before the first check"),
            p(
                "search_regex",
                Str,
                "a regular expression the file must contain",
            ),
            p("connect_timeout", Number, "seconds a connection may take before the port counts as closed (default 5)"),
            p("sleep", Number, "seconds between checks (default 1)"),
            p("msg", Str, "the failure's message when the time runs out"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Stat,
        "stat",
        "Describes a path on the host (register it: `stat.exists`, `isdir`, `isreg`, `islnk`, `mode`, `size`, `pw_name`, `mtime`, `checksum`, ...), changing nothing.",
        &[
            req("path", Str, "the path").aka(&["dest", "name"]),
            p("follow", Bool, "describe what a symlink points to (default false)"),
            p("get_checksum", Bool, "add the file's checksum (default true)"),
            p(
                "checksum_algorithm",
                Choice(&["sha1", "sha224", "sha256", "sha384", "sha512", "md5"]),
                "the checksum's algorithm (default sha1)",
            ),
            p("get_mime", Bool, "only false is supported: drover does not read mime types").aka(&["mime", "mime_type", "mime-type"]),
            p("get_attributes", Bool, "only false is supported: drover does not read file attributes").aka(&["attr", "attributes"]),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::AptRepository,
        "apt_repository",
        "Adds or removes a one-line apt source (`deb [signed-by=...] URI suite components`) in /etc/apt/sources.list.d, then runs apt-get update when it changed.",
        &[
            req("repo", Str, "the source line; a PPA (`ppa:`) is refused: Ubuntu only"),
            p("state", Choice(&["present", "absent"]), "present (default) adds it once (enabling a commented copy); absent removes it from every file"),
            p("filename", Str, "the file's name in sources.list.d, without `.list` (default: from the URI, as Ansible names it)"),
            MODE,
            p("update_cache", Bool, "run apt-get update after a change (default true)").aka(&["update-cache"]),
            p("install_python_apt", Bool, "Ansible installs python3-apt; drover needs no Python on the host, so there is nothing to install"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::AptKey,
        "apt_key",
        "Adds an OpenPGP key to apt's keyring with apt-key (unless a key with its id or fingerprint is there), or removes one.",
        &[
            p("id", Str, "the key id (8 or 16 hex digits) or fingerprint; needed for absent; a key with it is not fetched again"),
            p("url", Str, "fetch the key from this URL (curl on the host)"),
            p("file", Str, "read the key from this file on the host"),
            p("data", Str, "the key itself (armored or binary text)"),
            p("keyserver", Str, "fetch the key with `id` from this key server (gpg --recv-keys; the host must reach it)"),
            p("keyring", Str, "the keyring file, such as /etc/apt/trusted.gpg.d/docker.gpg"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("validate_certs", Bool, "check the URL's TLS certificate (default true)"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Unarchive,
        "unarchive",
        "Unpacks a tar (gz, bz2, xz) or zip archive into a folder on the host, only when what is there differs; the archive comes from files/, from the host (`remote_src`) or from a URL.",
        &[
            req("src", Str, "the archive: in files/ of the role or beside the playbook, on the host with `remote_src`, or an http(s)/ftp URL the host fetches"),
            req("dest", Str, "the folder to unpack into (it must exist)"),
            p("remote_src", Bool, "`src` is on the host"),
            p("copy", Bool, "the old spelling: `copy: false` is `remote_src: true`"),
            CREATES,
            p("extra_opts", List, "more options for tar or unzip, such as `--strip-components=1`"),
            p("include", List, "only these members (patterns)"),
            p("exclude", List, "not these members (patterns)"),
            p("list_files", Bool, "register the members as `files`"),
            MODE,
            OWNER,
            GROUP,
            p("validate_certs", Bool, "check a URL's TLS certificate (default true)"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Blockinfile,
        "blockinfile",
        "Inserts, replaces or removes a block of lines between marker lines in a file, as Ansible's blockinfile places it.",
        &[
            p("path", Str, "the file (also `dest`, `destfile`, `name`)"),
            p("dest", Str, "the same as `path`"),
            p("destfile", Str, "the same as `path`"),
            p("name", Str, "the same as `path`"),
            p("block", Str, "the lines (also `content`); empty removes the block"),
            p("content", Str, "the same as `block`"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("marker", Str, "the marker line, with `{mark}` for BEGIN/END (default `# {mark} ANSIBLE MANAGED BLOCK`)"),
            p("marker_begin", Str, "the word for `{mark}` in the first marker (default BEGIN)"),
            p("marker_end", Str, "the word for `{mark}` in the last marker (default END)"),
            p("insertafter", Str, "a new block goes after the last line matching this (or EOF, the default)"),
            p("insertbefore", Str, "a new block goes before the last line matching this (or BOF)"),
            p("create", Bool, "create the file if it is missing"),
            p("prepend_newline", Bool, "an empty line before the block unless there is one"),
            p("append_newline", Bool, "an empty line after the block unless there is one"),
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
            VALIDATE,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::AuthorizedKey,
        "authorized_key",
        "Adds or removes SSH public keys in a user's authorized_keys (0600, owned by the user, in a ~/.ssh made 0700), as ansible.posix's module keeps them.",
        &[
            req("user", Str, "whose file"),
            req("key", Str, "one key or several, one per line; or an http(s) URL the host fetches (such as https://github.com/NAME.keys)"),
            p("path", Str, "the file (default ~user/.ssh/authorized_keys)"),
            p("manage_dir", Bool, "make the file's folder 0700 and the user's (default true)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("key_options", Str, "options to put before the key(s), such as `no-pty,from=\"10.0.0.0/8\"`"),
            p("exclusive", Bool, "remove every other line from the file"),
            p("comment", Str, "the comment to put after the key(s)"),
            p("validate_certs", Bool, "check a key URL's TLS certificate (default true)"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["ansible.posix.authorized_key"]),
    module(
        ModuleKind::Hostname,
        "hostname",
        "Sets the host's name as Ansible does on Debian: /etc/hostname (the running name follows at the next boot), or both through hostnamectl with `use: systemd`.",
        &[
            req("name", Str, "the host name"),
            p("use", Choice(&["systemd", "debian"]), "systemd (Ansible's `debian` is the same) sets the running name too, through hostnamectl"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Timezone,
        "timezone",
        "Sets the host's time zone: timedatectl where systemd runs, else /etc/localtime and /etc/timezone.",
        &[req("name", Str, "a zone from /usr/share/zoneinfo, such as Europe/Zurich or UTC")],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.timezone"]),
    module(
        ModuleKind::Ufw,
        "ufw",
        "The host's firewall through its own `ufw` (which must be installed): `state`, `default`, one `rule` in ufw's long form, `logging`, in that order; changed when ufw's status or rules differ after.",
        &[
            p("state", Choice(&["enabled", "disabled", "reloaded", "reset"]), "enabled or disabled (on at boot too), reloaded or reset (these always report a change)"),
            p("default", Choice(&["allow", "deny", "reject"]), "the default policy for `direction` (incoming when not given)"),
            p("policy", Choice(&["allow", "deny", "reject"]), "the same as `default`"),
            p("direction", Choice(&["in", "incoming", "out", "outgoing", "routed"]), "for `default`: incoming, outgoing or routed; for a `rule`: in or out"),
            p("logging", Choice(&["on", "off", "low", "medium", "high", "full"]), "ufw's logging level"),
            p("rule", Choice(&["allow", "deny", "limit", "reject"]), "a rule's action"),
            p("insert", Number, "put the rule at this position (counted as `insert_relative_to` says)"),
            p("insert_relative_to", Choice(&["zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"]), "where `insert` counts from (default zero: the first rule is 1)"),
            p("interface", Str, "the rule's interface (`on IFACE`)"),
            p("if", Str, "the same as `interface`"),
            p("interface_in", Str, "a routed rule's incoming interface"),
            p("if_in", Str, "the same as `interface_in`"),
            p("interface_out", Str, "a routed rule's outgoing interface"),
            p("if_out", Str, "the same as `interface_out`"),
            p("log", Bool, "log new connections the rule matches"),
            p("from_ip", Str, "source address or network (default any)"),
            p("from", Str, "the same as `from_ip`"),
            p("src", Str, "the same as `from_ip`"),
            p("from_port", Str, "source port"),
            p("to_ip", Str, "destination address or network (default any)"),
            p("to", Str, "the same as `to_ip`"),
            p("dest", Str, "the same as `to_ip`"),
            p("to_port", Str, "destination port or range (`60000:61000`)"),
            p("port", Str, "the same as `to_port`"),
            p("proto", Choice(&["any", "tcp", "udp", "ipv6", "esp", "ah", "gre", "igmp"]), "protocol"),
            p("protocol", Choice(&["any", "tcp", "udp", "ipv6", "esp", "ah", "gre", "igmp"]), "the same as `proto`"),
            p("name", Str, "an application profile (`ufw app list`)"),
            p("app", Str, "the same as `name`"),
            p("delete", Bool, "remove the rule instead of adding it"),
            p("route", Bool, "a routed (forwarding) rule"),
            p("comment", Str, "the rule's comment"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.ufw"]),
    module(
        ModuleKind::Firewalld,
        "firewalld",
        "One setting of firewalld through its own `firewall-cmd` (`firewall-offline-cmd` with `offline` when the daemon is not running), as ansible.posix.firewalld makes it: a service, port, port forward, rich rule, source, interface, ICMP block, ICMP block inversion, masquerade, a zone's target, the default zone, or a zone itself; in the running configuration (`immediate`, assumed without `permanent`), the permanent one, or both; queried first, changed only when it differs.",
        &[
            req("state", Choice(&["enabled", "disabled", "present", "absent"]), "enabled or disabled for a setting; present or absent for a zone itself (or a zone's target)"),
            p("zone", Str, "the zone (firewalld's default zone when not given)"),
            p("service", Str, "a service firewalld knows (`firewall-cmd --get-services`)"),
            p("port", Str, "PORT/PROTOCOL or FROM-TO/PROTOCOL"),
            p("port_forward", List, "one mapping of `port`, `proto` (tcp or udp), `toport` and optionally `toaddr`"),
            p("rich_rule", Str, "a rule in firewalld's rich language"),
            p("source", Str, "a source address or network (needs `permanent` to be given)"),
            p("interface", Str, "an interface, moved to `zone` (which it needs)"),
            p("icmp_block", Str, "an ICMP type to block"),
            p("icmp_block_inversion", Str, "any value: inverts the zone's ICMP blocks (enabled) or not (disabled)"),
            p("masquerade", Str, "any value: masquerading on (enabled) or off (disabled) for the zone"),
            p("target", Choice(&["default", "ACCEPT", "DROP", "%%REJECT%%"]), "the zone's target (needs `zone` and `permanent`); absent or disabled puts back `default`"),
            p("default", Bool, "make `zone` the default zone (enabled) or put back public (disabled); needs `permanent`, and `immediate` when the daemon runs"),
            p("permanent", Bool, "change the permanent configuration"),
            p("immediate", Bool, "change the running configuration too (assumed when `permanent` is not true)"),
            p("offline", Bool, "when the daemon is not running, change the permanent configuration with firewall-offline-cmd"),
            p("timeout", Number, "seconds a running-configuration setting lasts (0: until reload)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["ansible.posix.firewalld"]),
    module(
        ModuleKind::Debconf,
        "debconf",
        "One answer in a package's debconf database, set with debconf-set-selections only when debconf-show says it differs (a password is always set, never shown).",
        &[
            req("name", Str, "the package").aka(&["pkg"]),
            p("question", Str, "the question (`tzdata/Areas`)"),
            p("selection", Str, "the same as `question`"),
            p("setting", Str, "the same as `question`"),
            p("vtype", Choice(&["boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title"]), "the answer's type"),
            p("value", Str, "the answer"),
            p("answer", Str, "the same as `value`"),
            p("unseen", Bool, "do not mark the question as seen"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Alternatives,
        "alternatives",
        "A Debian alternative (update-alternatives): installed with its priority, selected, the group set back to automatic, or removed; only what `update-alternatives --query` shows differs is done.",
        &[
            req("name", Str, "the group (`editor`)"),
            p("path", Str, "the alternative (`/usr/bin/vim.basic`); needed unless state is auto"),
            p("link", Str, "the group's link (`/usr/bin/editor`), needed when the group does not exist yet"),
            p("priority", Number, "its priority (default 50)"),
            p("state", Choice(&["present", "selected", "auto", "absent"]), "selected (default) installs and selects it, present installs it, auto lets the priorities choose, absent removes it"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.alternatives"]),
    module(
        ModuleKind::Acl,
        "acl",
        "One POSIX ACL entry set or removed on a file or folder (only when `setfacl --test` shows it would change the ACL), or the ACL read; the ACL is registered as `acl`.",
        &[
            p("path", Str, "the file or folder (also `name`)"),
            p("name", Str, "the same as `path`"),
            p("state", Choice(&["query", "present", "absent"]), "query (default) reads the ACL, present sets the entry, absent removes it"),
            p("etype", Choice(&["user", "group", "mask", "other"]), "the entry's type"),
            p("entity", Str, "the user or group the entry is for (empty for the owner's, mask and other)"),
            p("permissions", Str, "r, w, x and X, as setfacl takes them (present only)"),
            p("entry", Str, "the older shorthand `[default:]etype:entity[:permissions]`, instead of the three above"),
            p("default", Bool, "the folder's default ACL (what new files inside inherit)"),
            p("recursive", Bool, "everything under the folder too (also `recurse`)"),
            p("recurse", Bool, "the same as `recursive`"),
            p("follow", Bool, "follow a symlink (default true; false works on the link itself)"),
            p("recalculate_mask", Choice(&["default", "mask", "no_mask"]), "mask: always recalculate the mask; no_mask: never; default: as setfacl decides"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["ansible.posix.acl"]),
    module(
        ModuleKind::Make,
        "make",
        "Targets of a Makefile run in `chdir`, unless `make -q` says they are up to date (so a second run changes nothing); gmake is preferred where it exists. Registers stdout, stderr and the command.",
        &[
            req("chdir", Str, "the folder to run make in"),
            p("target", Str, "the target to run (default: the Makefile's first)"),
            p("targets", List, "several targets, instead of `target`"),
            p("params", Dict, "variables given on the command line (`NAME=value`; a key with no value is given alone)"),
            p("file", Str, "a Makefile other than the folder's own (`-f`)"),
            p("jobs", Number, "jobs to run at once (`-j`)"),
            p("make", Str, "the make program to use"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.make"]),
    module(
        ModuleKind::Expect,
        "expect",
        "Runs a command in a terminal and answers its prompts: each key of `responses` is a regular expression, its value the line to answer (a list answers its successive matches). No shell, as `command`; the host needs `script` (util-linux), not pexpect.",
        &[
            req("command", Str, "the command, split into words as Ansible splits it (no shell: give `bash -c '...'` for one)"),
            req("responses", Dict, "regular expression (Python's syntax; `(?i)` for any case) -> the answer, sent with a line end; or a list of answers for its successive matches"),
            CHDIR,
            CREATES,
            REMOVES,
            p("timeout", Any, "seconds to wait for the next output before the command is stopped (default 30; null: no limit)"),
            p("echo", Bool, "whether the answers show in the output (default false)"),
        ],
        CheckMode::Skipped,
        false,
    ),
    module(
        ModuleKind::OpensslPrivatekey,
        "openssl_privatekey",
        "A private key made on the host with its openssl (it never leaves the host): kept while it loads and is of the type, size and curve asked for (community.crypto's partial idempotence), made anew otherwise; written through a private temporary file, mode 0600 unless `mode` says.",
        &[
            req("path", Str, "the key file"),
            p("type", Choice(&["RSA", "ECC", "Ed25519", "Ed448", "X25519", "X448"]), "the algorithm (default RSA)"),
            p("size", Number, "RSA bits (default 4096)"),
            p("curve", Str, "ECC's curve, as community.crypto names it (secp256r1, secp384r1, secp521r1, secp256k1, brainpoolP256r1, ...)"),
            p("passphrase", Str, "encrypts the key (AES-256); given to openssl in its environment, never on a command line"),
            p("cipher", Choice(&["auto"]), "the cipher for `passphrase` (auto: AES-256)"),
            p("format", Choice(&["auto_ignore", "auto", "pkcs1", "pkcs8"]), "the file's format: auto is PKCS#1 (traditional) for RSA and ECC, PKCS#8 for the others"),
            p("regenerate", Choice(&["never", "fail", "partial_idempotence", "full_idempotence", "always"]), "when an existing key is made anew (full_idempotence: also when its format or encryption differ)"),
            p("force", Bool, "make the key anew every time (as `regenerate: always`)"),
            p("state", Choice(&["present", "absent"]), "absent removes the key"),
            p("mode", Mode, "the file's mode (default 0600)"),
            p("owner", Str, "the file's owner"),
            p("group", Str, "the file's group"),
            p("select_crypto_backend", Choice(&["auto", "cryptography"]), "accepted for compatibility: drover always uses the host's openssl"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.crypto.openssl_privatekey"]),
    module(
        ModuleKind::OpensslCsr,
        "openssl_csr",
        "A certificate signing request made on the host with openssl from a private key there: kept while its subject, extensions and key are the ones asked for, made anew otherwise; mode, owner and group as the file modules set them.",
        CSR_PARAMS,
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.crypto.openssl_csr"]),
    module(
        ModuleKind::OpensslCsrPipe,
        "openssl_csr_pipe",
        "A certificate signing request made on the host with openssl and returned as `csr` (nothing is written); `content` is a previous one, kept when it still matches.",
        CSR_PIPE_PARAMS,
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.crypto.openssl_csr_pipe"]),
    module(
        ModuleKind::OpensslDhparam,
        "openssl_dhparam",
        "Diffie-Hellman parameters made on the host with openssl, kept while the file holds valid ones of the size asked (as the module's openssl backend checks them).",
        &[
            req("path", Str, "the file"),
            p("size", Number, "bits (default 4096, which takes openssl minutes)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("force", Bool, "make them anew every time"),
            p("return_content", Bool, "register them as `dhparams`"),
            p("select_crypto_backend", Choice(&["auto", "openssl"]), "the host's openssl, as the module's openssl backend"),
            p("mode", AnyMode, "the file's mode"),
            p("owner", Str, "the file's owner"),
            p("group", Str, "the file's group"),
            BACKUP,
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.crypto.openssl_dhparam"]),
    module(
        ModuleKind::OpensshKeypair,
        "openssh_keypair",
        "An SSH key pair made with the host's ssh-keygen unless the key there has the type and size asked (`regenerate` decides, as community.crypto does), its public key put back when missing or not matching; the private key never leaves the host.",
        &[
            req("path", Str, "the private key; the public key is PATH.pub"),
            p("type", Choice(&["rsa", "dsa", "ecdsa", "ed25519"]), "the algorithm (default rsa)"),
            p("size", Number, "bits: rsa at least 1024 (default 4096), dsa 1024, ecdsa 256, 384 or 521; ed25519 has one size"),
            p("comment", Str, "the public key's comment (updated on a kept key)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent (both files removed)"),
            p("force", Bool, "make it anew every time (regenerate: always)"),
            p("regenerate", Choice(&["never", "fail", "partial_idempotence", "full_idempotence", "always"]), "when a key that is there is made anew: partial_idempotence (default) when its type or size differ; full_idempotence also when it cannot be read; never; fail (fails when it differs); always"),
            p("backend", Choice(&["auto", "opensshbin"]), "ssh-keygen, as the collection's opensshbin backend (the cryptography backend is not there)"),
            p("private_key_format", Choice(&["auto"]), "ssh-keygen's own format"),
            p("mode", Mode, "both files' mode"),
            p("owner", Str, "both files' owner"),
            p("group", Str, "both files' group"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.crypto.openssh_keypair"]),
    module(
        ModuleKind::X509Certificate,
        "x509_certificate",
        "A certificate made on the host with openssl from a CSR, self-signed or signed by your own CA: kept while it holds the CSR's key, subject and extensions and (ownca) verifies against the CA, made anew otherwise.",
        &[
            req("path", Str, "the certificate file"),
            p("provider", Choice(&["selfsigned", "ownca"]), "who signs it (acme and entrust are not supported)"),
            p("csr_path", Str, "the CSR on the host"),
            p("csr_content", Str, "the CSR itself (as openssl_csr_pipe returns it)"),
            p("privatekey_path", Str, "selfsigned: the key that signs it (the CSR's)"),
            p("privatekey_passphrase", Str, "the key's passphrase (in openssl's environment, never on a command line)"),
            p("selfsigned_not_before", Str, "selfsigned: the start of validity: now (+0s, the default); openssl cannot set another"),
            p("selfsigned_not_after", Str, "selfsigned: the end of validity, relative (+3650d, +52w, default +3650d)"),
            p("selfsigned_digest", Str, "selfsigned: the signature's digest (default sha256)"),
            p("ownca_path", Str, "ownca: the CA's certificate"),
            p("ownca_privatekey_path", Str, "ownca: the CA's private key"),
            p("ownca_privatekey_passphrase", Str, "ownca: its passphrase"),
            p("ownca_not_before", Str, "ownca: the start of validity: now (+0s, the default); openssl cannot set another"),
            p("ownca_not_after", Str, "ownca: the end of validity, relative (default +3650d)"),
            p("ownca_digest", Str, "ownca: the signature's digest (default sha256)"),
            p("force", Bool, "make it anew every time"),
            p("state", Choice(&["present", "absent"]), "absent removes it"),
            p("mode", AnyMode, "the file's mode"),
            p("owner", Str, "the file's owner"),
            p("group", Str, "the file's group"),
            p("return_content", Bool, "register the certificate as `certificate`"),
            p("select_crypto_backend", Choice(&["auto", "cryptography"]), "accepted for compatibility: drover always uses the host's openssl"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.crypto.x509_certificate", "openssl_certificate", "community.crypto.openssl_certificate"]),
    module(
        ModuleKind::Htpasswd,
        "htpasswd",
        "One user's line in an Apache/nginx password file: added, or its hash replaced only when it does not verify the password (so a second run changes nothing), or removed. Hashed on the controller: the host needs no passlib.",
        &[
            p("path", Str, "the password file (also `dest`, `destfile`)"),
            p("dest", Str, "the same as `path`"),
            p("destfile", Str, "the same as `path`"),
            p("name", Str, "the user (also `username`)"),
            p("username", Str, "the same as `name`"),
            p("password", Str, "the password (needed to add a user; never shown)"),
            p("hash_scheme", Choice(HASH_SCHEMES), "how a new hash is made (default apr_md5_crypt, Apache's); an existing hash of any of these is verified as it is"),
            p("crypt_scheme", Choice(HASH_SCHEMES), "the same as `hash_scheme`"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("create", Bool, "make the file (and its folder) when it does not exist (default true)"),
            MODE,
            OWNER,
            GROUP,
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.htpasswd"]),
    module(
        ModuleKind::Synchronize,
        "synchronize",
        "A controller folder (or file) made the same on the host as `rsync --archive` makes it, over drover's own connection (no rsync needed): only what rsync's quick check finds different is sent, in one tar stream; `delete` removes what the source does not have. Registers rsync's itemized changes.",
        &[
            req("src", Str, "the folder or file on the controller (relative: in files/ or beside the playbook); `dir/` sends what it holds, `dir` the folder itself"),
            req("dest", Str, "the folder on the host"),
            p("mode", Choice(&["push"]), "push (the default; pull is not supported)"),
            p("archive", Bool, "keep links, permissions, times, owner and group, and recurse (default true); each flag below overrides it"),
            p("recursive", Bool, "go into folders"),
            p("links", Bool, "send symbolic links as links"),
            p("copy_links", Bool, "send what symbolic links point to instead"),
            p("perms", Bool, "keep permissions"),
            p("times", Bool, "keep modification times"),
            p("owner", Bool, "keep the owner (by name; with `group`, where the host's user may give files away)"),
            p("group", Bool, "keep the group"),
            p("checksum", Bool, "compare content (SHA-256 on both sides), not size and time"),
            p("delete", Bool, "remove what is in dest but not in src (excluded names stay)"),
            p("compress", Bool, "gzip the stream (default true)"),
            p("rsync_opts", List, "--exclude=PATTERN and --include=PATTERN, read as rsync reads them; any other option is refused"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["ansible.posix.synchronize"]),
    module(
        ModuleKind::Slack,
        "slack",
        "A message posted to Slack from where the task runs (usually `delegate_to: localhost`), by an incoming webhook or the Web API, with the payload community.general builds; the token never reaches a command line or the output.",
        &[
            req("token", Str, "a webhook token (T.../B.../X...) or an API token (xoxb-, xoxp-, xoxa-); never shown"),
            p("msg", Str, "the message"),
            p("channel", Str, "the channel (`#ops`, `@user`, an id)"),
            p("thread_id", Str, "reply in this thread (its ts)"),
            p("reply_broadcast", Bool, "with thread_id: show the reply in the channel too"),
            p("username", Str, "the name it posts as (default Ansible)"),
            p("icon_url", Str, "the icon's URL"),
            p("icon_emoji", Str, "an emoji as the icon (`:ship:`), instead of icon_url"),
            p("link_names", Number, "1 (default): link @names and #channels; 0: do not"),
            p("parse", Choice(&["none", "full"]), "how Slack reads the message"),
            p("color", Str, "normal (default), good, warning, danger or a hex color (`#36a64f`): not normal sends the message as a colored attachment"),
            p("attachments", List, "Slack attachments (mappings)"),
            p("blocks", List, "Slack blocks (mappings)"),
            p("prepend_hash", Choice(&["always", "never", "auto"]), "put `#` before the channel: never (default), always, or auto (unless it starts with #, @ or is an id)"),
            p("domain", Choice(&["slack.com", "slack-gov.com"]), "Slack's domain (default slack.com)"),
            p("validate_certs", Bool, "check Slack's certificate (default true)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.slack"]),
    module(
        ModuleKind::GithubRelease,
        "github_release",
        "A GitHub repository's latest release tag (registered as `tag`), or a release created for a tag unless it exists, through GitHub's REST API with curl where the task runs; credentials never on a command line.",
        &[
            req("user", Str, "the repository's owner"),
            req("repo", Str, "the repository"),
            req("action", Choice(&["latest_release", "create_release"]), "latest_release reads the tag; create_release makes a release"),
            p("token", Str, "a GitHub token (never shown)"),
            p("password", Str, "the user's password, instead of a token (never shown)"),
            p("tag", Str, "the release's tag (create_release)"),
            p("target", Str, "the commit or branch the tag is made from"),
            p("name", Str, "the release's name"),
            p("body", Str, "the release's description"),
            p("draft", Bool, "a draft release"),
            p("prerelease", Bool, "a pre-release"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.github_release"]),
    module(
        ModuleKind::Iptables,
        "iptables",
        "One iptables rule present (appended, or inserted) or absent in a chain, as `iptables -C` finds it; or a chain's policy set, or a chain flushed. The rule's words in ansible-core's order; a value written `!x` is negated.",
        &[
            p("chain", Str, "the chain (INPUT, FORWARD, DOCKER-USER, ...)"),
            p("table", Choice(&["filter", "nat", "mangle", "raw", "security"]), "the table (default filter)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("action", Choice(&["append", "insert"]), "append (default) at the end, or insert at the top (or at rule_num)"),
            p("rule_num", Str, "with insert: the position"),
            p("ip_version", Choice(&["ipv4", "ipv6"]), "iptables (default) or ip6tables"),
            p("protocol", Str, "-p"),
            p("source", Str, "-s"),
            p("destination", Str, "-d"),
            p("match", List, "-m for each"),
            p("tcp_flags", Dict, "`flags` and `flags_set` lists (--tcp-flags)"),
            p("jump", Str, "-j: ACCEPT, DROP, REJECT, LOG, a chain"),
            p("gateway", Str, "with jump TEE: --gateway"),
            p("log_prefix", Str, "--log-prefix (jump LOG)"),
            p("log_level", Str, "--log-level (jump LOG)"),
            p("to_destination", Str, "--to-destination (DNAT)"),
            p("destination_ports", List, "-m multiport --dports"),
            p("to_source", Str, "--to-source (SNAT)"),
            p("goto", Str, "-g"),
            p("in_interface", Str, "-i"),
            p("out_interface", Str, "-o"),
            p("fragment", Str, "-f"),
            p("set_counters", Str, "-c"),
            p("source_port", Str, "--source-port"),
            p("destination_port", Str, "--destination-port"),
            p("to_ports", Str, "--to-ports"),
            p("set_dscp_mark", Str, "--set-dscp"),
            p("set_dscp_mark_class", Str, "--set-dscp-class"),
            p("syn", Choice(&["ignore", "match", "negate"]), "--syn, or ! --syn"),
            p("ctstate", List, "connection states (-m conntrack --ctstate)"),
            p("src_range", Str, "-m iprange --src-range"),
            p("dst_range", Str, "-m iprange --dst-range"),
            p("limit", Str, "-m limit --limit"),
            p("limit_burst", Str, "--limit-burst"),
            p("uid_owner", Str, "-m owner --uid-owner"),
            p("gid_owner", Str, "-m owner --gid-owner"),
            p("reject_with", Str, "--reject-with (jump REJECT when no jump is given)"),
            p("icmp_type", Str, "--icmp-type (--icmpv6-type for ipv6)"),
            p("comment", Str, "-m comment --comment"),
            p("wait", Str, "-w: seconds to wait for the xtables lock"),
            p("flush", Bool, "flush the chain (or the table's chains)"),
            p("policy", Choice(&["ACCEPT", "DROP", "QUEUE", "RETURN"]), "set the chain's policy"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["ansible.builtin.iptables"]),
    module(
        ModuleKind::Snap,
        "snap",
        "Snaps installed (from a channel, with classic confinement), removed, enabled or disabled, each only when `snap list` says otherwise. snapd cannot run in the test fleet's containers: the commands are tested as strings, and a host without snap fails the task saying so.",
        &[
            req("name", List, "the snaps"),
            p("state", Choice(&["present", "installed", "absent", "removed", "enabled", "disabled"]), "present (default), absent, enabled or disabled"),
            p("classic", Bool, "classic confinement (one snap at a time)"),
            p("channel", Str, "the channel to install from or move to (`1.30/stable`)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.snap"]),
    module(
        ModuleKind::Apache2Module,
        "apache2_module",
        "An Apache module enabled (a2enmod) or disabled (a2dismod), as Debian manages them, only when `apache2ctl -M` says otherwise; still not so afterwards fails the task.",
        &[
            req("name", Str, "the module, as a2enmod names it (`rewrite`, `php8.2`)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("identifier", Str, "its name in `apache2ctl -M` (default: `<name>_module`, or the module's known exceptions)"),
            p("force", Bool, "disable it even when other modules depend on it (`a2dismod -f`)"),
            p("ignore_configcheck", Bool, "a configuration `apache2ctl -M` cannot read counts as the module being off"),
            p("warn_mpm_absent", Bool, "with ignore_configcheck, warn when no MPM module is loaded (default true)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.apache2_module"]),
    module(
        ModuleKind::LocaleGen,
        "locale_gen",
        "A locale generated (enabled in /etc/locale.gen, then locale-gen) or removed, unless `locale -a` already says so.",
        &[
            req("name", Str, "the locale (`en_US.UTF-8`)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.locale_gen"]),
    module(
        ModuleKind::Assemble,
        "assemble",
        "A file made of a folder's fragments in name order (on the host, or on the controller with remote_src: false), with a delimiter between them; written only when it differs.",
        &[
            req("src", Str, "the folder of fragments"),
            req("dest", Str, "the file to make"),
            p("remote_src", Bool, "the folder is on the host (default true); false: in files/ or beside the playbook"),
            p("regexp", Str, "only fragments whose name this regular expression finds"),
            p("ignore_hidden", Bool, "leave out fragments whose name starts with a dot"),
            p("delimiter", Str, "put between fragments (escapes such as \\n read), a newline after it"),
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
            VALIDATE,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::PamLimits,
        "pam_limits",
        "One `domain type item value` limit in /etc/security/limits.conf (or `dest`), changed in place or added at the end, as community.general edits it.",
        &[
            req("domain", Str, "a user, @group, * or a range"),
            req("limit_type", Choice(&["soft", "hard", "-"]), "soft, hard or - (both)"),
            req("limit_item", Choice(&["core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as", "maxlogins", "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot"]), "the limit"),
            req("value", Str, "a number, or unlimited, infinity, -1 (nice and priority: -20 to 19)"),
            p("use_max", Bool, "keep the larger of this and the file's value"),
            p("use_min", Bool, "keep the smaller of this and the file's value"),
            p("dest", Str, "the file (default /etc/security/limits.conf)"),
            p("comment", Str, "a comment after the limit"),
            BACKUP,
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.pam_limits"]),
    module(
        ModuleKind::Pamd,
        "pamd",
        "One rule of a PAM service file (/etc/pam.d/NAME), found by type, control and module path, changed as community.general changes it: updated, a rule put before or after it, arguments added or removed, or removed; the file rewritten as the module writes it.",
        &[
            req("name", Str, "the service: the file's name under `path`"),
            req("type", Choice(PAM_TYPES), "the rule's type"),
            req("control", Str, "the rule's control: required, optional, ... or [value=action ...]"),
            req("module_path", Str, "the rule's module, such as pam_motd.so"),
            p("new_type", Choice(PAM_TYPES), "updated: its new type; before and after: the new rule's"),
            p("new_control", Str, "updated: its new control; before and after: the new rule's"),
            p("new_module_path", Str, "updated: its new module; before and after: the new rule's"),
            p("module_arguments", List, "updated: its arguments (all of them); before and after: the new rule's; args_present and args_absent: those to add (key=value replaces the key's value) or remove"),
            p("state", Choice(&["updated", "before", "after", "args_present", "args_absent", "absent"]), "what to do to each rule found (default updated)"),
            p("path", Str, "the folder of service files (default /etc/pam.d)"),
            BACKUP,
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.pamd"]),
    module(
        ModuleKind::Seport,
        "seport",
        "SELinux port types with semanage: added (or moved from another type) or deleted only where `semanage port -l` says otherwise. A host without semanage, or with SELinux disabled, fails the task as the module does.",
        &[
            req("ports", List, "ports or ranges (8080, 8080-8090)"),
            req("proto", Choice(&["tcp", "udp"]), "the protocol"),
            req("setype", Str, "the SELinux type, such as ssh_port_t"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("reload", Bool, "reload the policy after the change (default true; false is semanage -N)"),
            p("ignore_selinux_state", Bool, "run even where SELinux is disabled"),
            p("local", Bool, "compare with the local changes only (semanage port -l -C)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.seport"]),
    module(
        ModuleKind::Selinux,
        "selinux",
        "SELinux's state and policy in the running system (setenforce) and its configuration file, as ansible.posix changes them; what needs a reboot is written for it and reported as reboot_required. A host without SELinux's tools fails the task.",
        &[
            req("state", Choice(&["enforcing", "permissive", "disabled"]), "the state"),
            p("policy", Str, "the policy, such as targeted (needed unless disabled)"),
            p("configfile", Str, "the configuration file (default /etc/selinux/config)").aka(&["conf", "file"]),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["ansible.posix.selinux"]),
    module(
        ModuleKind::Sudoers,
        "sudoers",
        "One sudo rule in a file of /etc/sudoers.d, written as community.general writes it (mode 0440) when its content or mode differs, checked with visudo first; or the file removed.",
        &[
            req("name", Str, "the file's name in `sudoers_path`"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent (the file removed)"),
            p("user", Str, "whom the rule is for (or `group`)"),
            p("group", Str, "the group the rule is for (written %GROUP)"),
            p("commands", List, "the commands it allows (needed with present)"),
            p("nopassword", Bool, "without a password (NOPASSWD:, default true)"),
            p("setenv", Bool, "SETENV: (default false)"),
            p("noexec", Bool, "NOEXEC: (default false)"),
            p("host", Str, "the hosts it holds on (default ALL)"),
            p("runas", Str, "whom the commands run as: (RUNAS)"),
            p("sudoers_path", Str, "the folder (default /etc/sudoers.d)"),
            p("validation", Choice(&["detect", "required", "absent"]), "check the rule with visudo -c: when visudo is there (detect, default), always (required), or not (absent)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.sudoers"]),
    module(
        ModuleKind::Filesystem,
        "filesystem",
        "A filesystem made on a device or a file unless blkid finds one of its kind there (another kind is refused unless `force`), or its signatures wiped (absent).",
        &[
            req("dev", Str, "the device, or a file").aka(&["device"]),
            p("fstype", Choice(&["ext2", "ext3", "ext4", "ext4dev", "xfs", "btrfs", "swap", "lvm"]), "the filesystem (needed with present)").aka(&["type"]),
            p("state", Choice(&["present", "absent"]), "present (default) or absent (wipefs --all)"),
            p("opts", Str, "mkfs's options, split into words"),
            p("force", Bool, "make it even over another filesystem"),
            p("uuid", Str, "the new filesystem's UUID (ext2/3/4, lvm); an existing one's is not changed"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.filesystem"]),
    module(
        ModuleKind::KernelBlacklist,
        "kernel_blacklist",
        "A `blacklist NAME` line in a modprobe.d file, added or removed as community.general does it (the file made when missing, written back with trailing spaces dropped).",
        &[
            req("name", Str, "the kernel module"),
            p("state", Choice(&["present", "absent"]), "present (default: blacklisted) or absent"),
            p("blacklist_file", Str, "the file (default /etc/modprobe.d/blacklist-ansible.conf)"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.kernel_blacklist"]),
    module(
        ModuleKind::Modprobe,
        "modprobe",
        "A kernel module loaded (unless /proc/modules lists it or it is built in) or unloaded, and kept so across boots in /etc/modules-load.d and /etc/modprobe.d.",
        &[
            req("name", Str, "the module"),
            p("state", Choice(&["present", "absent"]), "present (default: loaded) or absent (unloaded)"),
            p("params", Str, "the module's parameters (`numdummies=2`), split as a command line's words"),
            p("persistent", Choice(&["disabled", "present", "absent"]), "present: loaded at boot (with `params` as its options); absent: taken out of those files; disabled (default): left as they are"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.modprobe"]),
    module(
        ModuleKind::KnownHosts,
        "known_hosts",
        "One host's keys in an SSH known_hosts file: `present` adds the key unless the host has it (replacing its key of the same type), `absent` removes all its keys; hashed names are found and can be written.",
        &[
            req("name", Str, "the host, as ssh names it (`git.example`, `[git.example]:2222`)").aka(&["host"]),
            p("key", Str, "the key's known_hosts line, beginning with `name` (required with state present)"),
            p("path", Str, "the file (default ~/.ssh/known_hosts of the remote user; its folder is made 0700)"),
            p("hash_host", Bool, "write the host's name hashed, as `ssh-keygen -H` does"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Script,
        "script",
        "Runs a script of the controller's (from the role's files/ or beside the playbook) on the host: sent to a private temporary folder, run with the free form's arguments through the shell, removed after.",
        &[
            p("cmd", Str, "the script and its arguments"),
            CHDIR,
            CREATES,
            REMOVES,
            p("executable", Str, "the program to run the script with (such as /bin/bash or python3), else the script's own #! line"),
            p("decrypt", Bool, "decrypt a vault-encrypted script (default true)"),
        ],
        CheckMode::Skipped,
        false,
    )
    .free_form(),
    module(
        ModuleKind::Raw,
        "raw",
        "Runs a command line through the login shell as it is (as `shell`; drover needs no Python on the host anyway).",
        &[p("executable", Str, "the shell to run it with")],
        CheckMode::Skipped,
        false,
    )
    .free_form(),
    module(
        ModuleKind::Tempfile,
        "tempfile",
        "Makes a new private file or folder with a name nobody can guess (mktemp); registers its `path`.",
        &[
            p("state", Choice(&["file", "directory"]), "file (default) or directory"),
            p("path", Str, "the folder to make it in (default $TMPDIR or /tmp)"),
            p("prefix", Str, "the name's start (default `ansible.`)"),
            p("suffix", Str, "the name's end"),
        ],
        CheckMode::Skipped,
        false,
    ),
    module(
        ModuleKind::PackageFacts,
        "package_facts",
        "Reads the installed packages from dpkg into `ansible_facts.packages` (name -> list of {name, version, arch, category, source}).",
        &[
            p("manager", List, "auto or apt (dpkg's database either way)"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::ServiceFacts,
        "service_facts",
        "Reads systemd's services into `ansible_facts.services` (unit -> {name, state, status, source}).",
        &[],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Getent,
        "getent",
        "Reads a system database (passwd, group, hosts, services, ...) with getent into `getent_<database>`.",
        &[
            req("database", Str, "the database, such as passwd or hosts"),
            p("key", Str, "only this entry"),
            p("split", Str, "the field separator (default `:` for passwd, group, shadow; else whitespace)"),
            p("fail_key", Bool, "fail when `key` is not found (default true)"),
            p("service", Str, "the NSS service to ask (getent -s)"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::IniFile,
        "ini_file",
        "Sets, adds or removes an option in a section of an INI file, as community.general's ini_file edits it.",
        &[
            p("path", Str, "the file (also `dest`)"),
            p("dest", Str, "the same as `path`"),
            p("section", Str, "the section; left out: the options before any section"),
            p("option", Str, "the option; left out with state absent: the whole section goes"),
            p("value", Str, "its value"),
            p("values", List, "several values, one line each"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("exclusive", Bool, "only these values: other lines of the option go (default true)"),
            p("no_extra_spaces", Bool, "write `option=value` without spaces"),
            p("allow_no_value", Bool, "an option without a value (`option` alone on its line)"),
            p("create", Bool, "create the file if it is missing (default true)"),
            ANY_MODE,
            OWNER,
            GROUP,
            BACKUP,
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.ini_file"]),
    module(
        ModuleKind::Cron,
        "cron",
        "Keeps a job (after its `#Ansible: NAME` marker) or a variable in a user's crontab or a file in /etc/cron.d, as Ansible's cron module does.",
        &[
            req("name", Str, "the job's name (its marker), or the variable's with `env`"),
            p("job", Str, "the command (also `value`), or the variable's value with `env`"),
            p("value", Str, "the same as `job`"),
            p("minute", Str, "default *"),
            p("hour", Str, "default *"),
            p("day", Str, "day of the month (also `dom`), default *"),
            p("dom", Str, "the same as `day`"),
            p("month", Str, "default *"),
            p("weekday", Str, "day of the week (also `dow`), default *"),
            p("dow", Str, "the same as `weekday`"),
            p("special_time", Choice(&["reboot", "yearly", "annually", "monthly", "weekly", "daily", "hourly"]), "@reboot, @daily, ... instead of the time fields"),
            p("user", Str, "whose crontab (default the connection's user); needed with cron_file"),
            p("cron_file", Str, "a file in /etc/cron.d instead of a user's crontab (removed when its last job goes)"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("disabled", Bool, "keep the job commented out"),
            p("env", Bool, "manage a variable (`NAME=\"value\"`) instead of a job"),
            p("insertafter", Str, "with env: put a new variable after this one"),
            p("insertbefore", Str, "with env: put a new variable before this one"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::DpkgSelections,
        "dpkg_selections",
        "Sets a package's dpkg selection: `hold` keeps apt from upgrading it (docker-ce, containerd.io in a patch window).",
        &[
            req("name", Str, "the package"),
            req("selection", Choice(&["install", "hold", "deinstall", "purge"]), "the selection"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Deb822Repository,
        "deb822_repository",
        "Writes an apt source as a deb822 .sources file, as ansible-core's module writes it; a `signed_by` URL is fetched into /etc/apt/keyrings. Run apt with update_cache after it.",
        &[
            req("name", Str, "the source's name (the file is sources.list.d/NAME.sources)"),
            p("types", List, "deb (default) and/or deb-src"),
            p("uris", List, "the repository's URIs"),
            p("suites", List, "suites, such as bookworm"),
            p("components", List, "components, such as main or stable"),
            p("signed_by", Str, "the key: a URL fetched into /etc/apt/keyrings, a key file's path, or the key's text"),
            p("architectures", List, "only these architectures"),
            p("enabled", Bool, "whether apt uses it"),
            p("trusted", Bool, "trust it without a signature"),
            p("by_hash", Bool, "apt's By-Hash"),
            p("check_date", Bool, "apt's Check-Date"),
            p("check_valid_until", Bool, "apt's Check-Valid-Until"),
            p("date_max_future", Number, "apt's Date-Max-Future"),
            p("inrelease_path", Str, "apt's InRelease-Path"),
            p("languages", List, "apt's Languages"),
            p("pdiffs", Bool, "apt's PDiffs"),
            p("targets", List, "apt's Targets"),
            p("allow_insecure", Bool, "apt's Allow-Insecure"),
            p("allow_weak", Bool, "apt's Allow-Weak"),
            p("allow_downgrade_to_insecure", Bool, "apt's Allow-Downgrade-To-Insecure"),
            p("mode", Mode, "the file's permissions (default 0644)"),
            p("state", Choice(&["present", "absent"]), "absent removes the file and its fetched key"),
            p("install_python_debian", Bool, "Ansible installs python3-debian; drover needs nothing on the host for it"),
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::Sysctl,
        "sysctl",
        "Keeps a kernel setting in a sysctl file and reloads it (sysctl -p), or sets the running value with `sysctl_set`, as ansible.posix's module does.",
        &[
            p("name", Str, "the setting, such as net.ipv4.ip_forward (also `key`)"),
            p("key", Str, "the same as `name`"),
            p("value", Str, "its value (yes/no become 1/0; also `val`)"),
            p("val", Str, "the same as `value`"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("sysctl_file", Str, "the file (default /etc/sysctl.conf)"),
            p("reload", Bool, "run sysctl -p on the file after a change (default true)"),
            p("sysctl_set", Bool, "also set the running value with sysctl -w when it differs"),
            p("ignoreerrors", Bool, "ignore unknown keys (sysctl -e)"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["ansible.posix.sysctl"]),
    module(
        ModuleKind::Dnf,
        "dnf",
        "Installs, upgrades or removes packages with dnf (or yum) on Fedora and Red Hat hosts, only what differs; built as tested commands, not run against such hosts in drover's Debian test fleet.",
        &[
            p("name", List, "packages (`*` with latest: upgrade everything)"),
            p("pkg", List, "the same as `name`"),
            p("state", Choice(&["present", "installed", "latest", "absent", "removed"]), "present installs what is missing, latest upgrades, absent removes"),
            p("update_cache", Bool, "refresh the repositories' metadata first (dnf makecache)").aka(&["expire-cache"]),
            p("update_only", Bool, "with latest: upgrade only what is installed"),
            p("autoremove", Bool, "then remove what nothing needs any more"),
            p("enablerepo", List, "repositories to enable for this task"),
            p("disablerepo", List, "repositories to disable for this task"),
            p("exclude", List, "packages to leave alone"),
            p("enable_plugin", List, "dnf plugins to enable"),
            p("disable_plugin", List, "dnf plugins to disable"),
            p("disable_gpg_check", Bool, "install without checking signatures"),
            p("releasever", Str, "the release version to use"),
            p("conf_file", Str, "another dnf configuration file"),
            p("disable_excludes", Str, "`all`, `main` or a repository: drop excludes from there"),
            p("cacheonly", Bool, "use only the cached metadata"),
            p("security", Bool, "with latest: only security updates"),
            p("bugfix", Bool, "with latest: only bug-fix updates"),
            p("allowerasing", Bool, "allow removing packages to resolve conflicts"),
            p("nobest", Bool, "allow a version other than the best one"),
            p("skip_broken", Bool, "skip packages with broken dependencies"),
            p("download_only", Bool, "download, do not install"),
            p("install_weak_deps", Bool, "install weak dependencies (recommends) too"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["yum", "ansible.builtin.yum", "dnf5", "ansible.builtin.dnf5"]),
    module(
        ModuleKind::Zypper,
        "zypper",
        "Installs, upgrades or removes packages with zypper on openSUSE and SLES hosts, only what differs; built as tested commands, not run against such hosts in drover's Debian test fleet.",
        &[
            p("name", List, "packages (`*` with latest or dist-upgrade: everything)"),
            p("pkg", List, "the same as `name`"),
            p("state", Choice(&["present", "installed", "latest", "absent", "removed", "dist-upgrade"]), "present installs what is missing, latest upgrades, absent removes"),
            p("type", Choice(&["package", "patch", "pattern", "product", "srcpackage", "application"]), "what `name` names"),
            p("update_cache", Bool, "refresh the repositories first").aka(&["refresh"]),
            p("disable_gpg_check", Bool, "install without checking signatures"),
            p("disable_recommends", Bool, "leave recommended packages out (true, Ansible's default)"),
            p("force", Bool, "reinstall even when installed"),
            p("oldpackage", Bool, "allow an older version"),
            p("allow_vendor_change", Bool, "allow a package from another vendor"),
            p("replacefiles", Bool, "allow a package to replace another's files"),
            p("clean_deps", Bool, "with absent: remove what only they needed"),
            p("extra_args", Str, "more zypper options, blank-separated"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.zypper"]),
    module(
        ModuleKind::Pacman,
        "pacman",
        "Installs, upgrades or removes packages with pacman on Arch hosts, only what differs; built as tested commands, not run against such hosts in drover's Debian test fleet.",
        &[
            p("name", List, "packages").aka(&["package", "pkg"]),
            p("state", Choice(&["present", "installed", "latest", "absent", "removed"]), "present installs what is missing, latest upgrades, absent removes"),
            p("update_cache", Bool, "refresh the package databases first (pacman -Sy)"),
            p("upgrade", Bool, "upgrade every package (pacman -Su)"),
            p("extra_args", Str, "more pacman options for install and remove, blank-separated"),
            p("update_cache_extra_args", Str, "more options for the refresh"),
            p("upgrade_extra_args", Str, "more options for the upgrade"),
        ],
        CheckMode::Predicts,
        false,
    )
    .aliases(&["community.general.pacman"]),
    module(
        ModuleKind::RpmKey,
        "rpm_key",
        "Imports an OpenPGP key into rpm's database (from a URL or a file on the host) unless rpm has it, or removes one; for rpm hosts, not run in drover's Debian test fleet.",
        &[
            req("key", Str, "a URL, a key file on the host, or (to remove) a key id"),
            p("state", Choice(&["present", "absent"]), "present imports, absent removes"),
            p("fingerprint", List, "the key must have one of these fingerprints"),
            p("validate_certs", Bool, "check the server's certificate when fetching (default true)"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::YumRepository,
        "yum_repository",
        "Writes a repository's section in a .repo file under /etc/yum.repos.d as ansible-core writes it, or removes it (and the file once empty).",
        &[
            req("name", Str, "the repository's id (its section)"),
            p("description", Str, "its name= (needed with present)"),
            p("baseurl", List, "its URLs"),
            p("mirrorlist", Str, "a mirror list URL"),
            p("metalink", Str, "a metalink URL"),
            p("file", Str, "the file's name without .repo (default: name)"),
            p("reposdir", Str, "the folder (default /etc/yum.repos.d)"),
            p("state", Choice(&["present", "absent"]), "present writes the section, absent removes it"),
            p("enabled", Bool, "whether dnf uses it"),
            p("gpgcheck", Bool, "check packages' signatures"),
            p("gpgkey", List, "URLs of the signing keys"),
            p("repo_gpgcheck", Bool, "check the metadata's signature"),
            p("priority", Str, "its priority (1 to 99)"),
            p("cost", Str, "its cost"),
            p("exclude", List, "packages to leave out of it").aka(&["excludepkgs"]),
            p("includepkgs", List, "only these packages from it"),
            p("skip_if_unavailable", Bool, "go on when it cannot be reached"),
            p("sslverify", Bool, "check the server's certificate").aka(&["validate_certs"]),
            p("sslcacert", Str, "the CA certificate's path").aka(&["ca_cert"]),
            p("sslclientcert", Str, "the client certificate's path").aka(&["client_cert"]),
            p("sslclientkey", Str, "the client key's path").aka(&["client_key"]),
            p("metadata_expire", Str, "how long metadata stays fresh"),
            p("module_hotfixes", Bool, "let its packages bypass module filtering"),
            p("countme", Bool, "count this host in the repository's statistics"),
            p("enablegroups", Bool, "use its package groups"),
            p("proxy", Str, "a proxy URL"),
            p("proxy_username", Str, "the proxy's user"),
            p("proxy_password", Str, "the proxy's password"),
            p("username", Str, "the repository's user"),
            p("password", Str, "the repository's password"),
            p("timeout", Str, "seconds to wait for the server"),
            p("retries", Str, "how many times to retry"),
            p("throttle", Str, "a bandwidth limit"),
            p("bandwidth", Str, "the bandwidth that throttle is a share of"),
            p("ip_resolve", Choice(&["4", "6", "IPv4", "IPv6", "whatever"]), "which addresses to use"),
            p("include", Str, "another file or URL to include"),
            ANY_MODE,
            OWNER,
            GROUP,
        ],
        CheckMode::Predicts,
        true,
    ),
    module(
        ModuleKind::ZypperRepository,
        "zypper_repository",
        "Writes an openSUSE repository as zypper keeps it (/etc/zypp/repos.d/NAME.repo), or removes it; for zypper hosts, not run in drover's Debian test fleet.",
        &[
            req("name", Str, "the repository's alias (the file's name)"),
            p("repo", Str, "its URL (needed with present)"),
            p("state", Choice(&["present", "absent"]), "present writes it, absent removes it"),
            p("description", Str, "its name= (default: name)"),
            p("enabled", Bool, "whether zypper uses it (default true)"),
            p("autorefresh", Bool, "refresh it before each use (default true)").aka(&["refresh"]),
            p("priority", Number, "its priority, 1 to 200"),
            p("disable_gpg_check", Bool, "do not check its signatures"),
            p("auto_import_keys", Bool, "import its signing keys (zypper refresh --gpg-auto-import-keys after a change)"),
            p("runrefresh", Bool, "refresh it after the task"),
        ],
        CheckMode::Predicts,
        true,
    )
    .aliases(&["community.general.zypper_repository"]),
    module(
        ModuleKind::Find,
        "find",
        "Lists the files under folders that match patterns, a type, an age, a size or a content (register it: `files`, `matched`, `examined`), changing nothing.",
        &[
            p("paths", List, "the folders (also `path`, `name`)"),
            p("path", List, "the same as `paths`"),
            p("name", List, "the same as `paths`"),
            p("patterns", List, "base-name globs (or regexes with use_regex); default all (also `pattern`)"),
            p("pattern", List, "the same as `patterns`"),
            p("excludes", List, "base names to leave out (also `exclude`)"),
            p("exclude", List, "the same as `excludes`"),
            p("use_regex", Bool, "patterns are regexes matched at the name's start"),
            p("file_type", Choice(&["file", "directory", "link", "any"]), "file (default), directory, link or any"),
            p("recurse", Bool, "look in subfolders too"),
            p("depth", Number, "with recurse, at most this many levels down"),
            p("hidden", Bool, "include names starting with a dot"),
            p("follow", Bool, "follow symlinks"),
            p("age", Str, "at least this old (2d, 1w, 30m; seconds bare), or at most with a minus"),
            p("age_stamp", Choice(&["mtime", "atime", "ctime"]), "which time `age` looks at (default mtime)"),
            p("size", Str, "at least this big (10m, 1k, 1g; bytes bare), or at most with a minus"),
            p("contains", Str, "a regex some line of the file must match (regular files only)"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::User,
        "user",
        "Makes, changes or removes a local account with useradd/usermod/userdel, changing only what differs; a password hash goes to chpasswd on standard input and is never shown.",
        &[
            p("name", Str, "the account (also `user`)"),
            p("user", Str, "the same as `name`"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("uid", Number, "the user id"),
            p("group", Str, "the primary group (name or id); it must exist"),
            p("groups", List, "supplementary groups (a list or a comma-separated string); `\"\"` removes all"),
            p("append", Bool, "add `groups` to the user's groups instead of setting them exactly"),
            p("shell", Str, "the login shell"),
            p("home", Str, "the home folder"),
            p("create_home", Bool, "make the home folder when the user is made (default true; also `createhome`)"),
            p("createhome", Bool, "the same as `create_home`"),
            p("move_home", Bool, "with a new `home`, move the old one's contents there"),
            p("system", Bool, "make a system account (only when it is made)"),
            p("password", Str, "a crypted password hash (such as `password_hash('sha512')` gives), never shown"),
            p("update_password", Choice(&["always", "on_create"]), "always (default) sets a differing hash; on_create only for a new user"),
            p("password_lock", Bool, "lock (true) or unlock (false) the password"),
            p("password_expire_min", Number, "days before the password may be changed again (chage -m), compared with shadow's"),
            p("password_expire_max", Number, "days the password stays valid, -1 for ever (chage -M), compared with shadow's"),
            p("password_expire_warn", Number, "days of warning before it expires (chage -W), compared with shadow's"),
            p("password_expire_account_disable", Number, "days after it expires before the account is disabled, -1 never (chage -I), compared with shadow's"),
            p("expires", Number, "when the account expires, in seconds since 1970 (the day counts, as shadow keeps it); negative: never (chage -E), compared with shadow's"),
            p("skeleton", Str, "with a new home, the folder it is copied from (useradd -k)"),
            p("umask", Str, "the new home's umask (useradd -K UMASK=)"),
            p("uid_min", Number, "the lowest uid for a new user (useradd -K UID_MIN=)"),
            p("uid_max", Number, "the highest uid for a new user (useradd -K UID_MAX=)"),
            p("comment", Str, "the GECOS field"),
            p("remove", Bool, "with state absent, remove the home folder and mail spool too"),
            p("force", Bool, "with state absent, remove the user even when logged in"),
            p("non_unique", Bool, "allow a `uid` another user has"),
            p("generate_ssh_key", Bool, "make an SSH key pair for the user with ssh-keygen unless its key file exists (registers ssh_public_key, ssh_fingerprint, ssh_key_file)"),
            p("ssh_key_type", Choice(&["rsa", "dsa", "ecdsa", "ed25519", "ecdsa-sk", "ed25519-sk"]), "the key's type (default rsa)"),
            p("ssh_key_bits", Number, "the key's size (default ssh-keygen's)"),
            p("ssh_key_file", Str, "the private key's path, relative to the home folder (default .ssh/id_TYPE)"),
            p("ssh_key_comment", Str, "the key's comment (default `ansible-generated on HOSTNAME`)"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Group,
        "group",
        "Makes, renumbers or removes a local group with groupadd/groupmod/groupdel, changing only what differs.",
        &[
            req("name", Str, "the group"),
            p("state", Choice(&["present", "absent"]), "present (default) or absent"),
            p("gid", Number, "the group id"),
            p("system", Bool, "make a system group (only when it is made)"),
            p("non_unique", Bool, "allow a `gid` another group has"),
            p("force", Bool, "with state absent, remove the group even when it is a user's primary group (groupdel -f)"),
            p("gid_min", Number, "the lowest gid for a new group (groupadd -K GID_MIN=)"),
            p("gid_max", Number, "the highest gid for a new group (groupadd -K GID_MAX=)"),
        ],
        CheckMode::Predicts,
        false,
    ),
    module(
        ModuleKind::Ping,
        "ping",
        "Checks that drover can log in and run a command on the host (no Python needed); registers `ping: pong`.",
        &[p("data", Str, "what to answer instead of pong; `crash` fails the task, as in Ansible")],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::AsyncStatus,
        "async_status",
        "Reads a background job that `async:` with `poll: 0` started: `finished` (0 or 1), and when it has, `rc`, `stdout` and `stderr` (failed when rc is not 0); `mode: cleanup` removes the job's files.",
        &[
            p("jid", Str, "the job id (`ansible_job_id` of the registered result); needed"),
            p("mode", Choice(&["status", "cleanup"]), "status (default) or cleanup"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Slurp,
        "slurp",
        "Reads a file on the host; registers `content` (base64, as Ansible: use `| b64decode`), `encoding` and `source`.",
        &[
            p("src", Str, "the file (needed, or `path`)"),
            p("path", Str, "the same as `src`"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::WaitForConnection,
        "wait_for_connection",
        "Waits until the host answers over SSH again, and stays up.",
        &[
            p("timeout", Number, "seconds before failing (default 600)"),
            p("delay", Number, "seconds before the first try"),
            p("stable_for", Number, "seconds the host must stay reachable"),
            p("connect_timeout", Number, "seconds one connection attempt may take before the next (default the run's connect timeout)"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Reboot,
        "reboot",
        "Reboots the host, waits for a new boot id and a stable host, then the roll call checks its containers.",
        &[
            p(
                "reboot_timeout",
                Number,
                "seconds to wait for the host to come back (default 600)",
            ),
            p("msg", Str, "the message given to shutdown"),
            p("connect_timeout", Number, "seconds one connection attempt may take before the next (default the run's connect timeout)"),
            p("pre_reboot_delay", Number, "seconds before rebooting"),
            p(
                "post_reboot_delay",
                Number,
                "seconds to wait after it is back",
            ),
            p(
                "test_command",
                Str,
                "a command that must succeed once it is back",
            ),
            p("reboot_command", Str, "the command that reboots"),
            p(
                "stable_for",
                Number,
                "seconds the host must stay up (default 30)",
            ),
        ],
        CheckMode::Skipped,
        false,
    )
    .aliases(&["ansible.posix.reboot"]),
    module(
        ModuleKind::Pause,
        "pause",
        "Waits some time, or asks the operator at the terminal (an operator checkpoint; --yes passes it).",
        &[
            p("seconds", Number, "seconds to wait"),
            p("minutes", Number, "minutes to wait"),
            p(
                "prompt",
                Str,
                "the question; the answer is registered as user_input",
            ),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Assert,
        "assert",
        "Fails the host unless every condition holds.",
        &[
            req("that", List, "conditions, as in `when:`"),
            p("fail_msg", Str, "said when one does not hold"),
            p("success_msg", Str, "said when all hold"),
            p("msg", Str, "the same as `fail_msg`"),
            p("quiet", Bool, "say nothing on success"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Fail,
        "fail",
        "Fails the host with a message.",
        &[p("msg", Str, "the message")],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Debug,
        "debug",
        "Shows a message or a variable.",
        &[
            p("msg", Any, "what to show"),
            p("var", Str, "a variable to show"),
            p(
                "verbosity",
                Number,
                "shown only from this many -v on (skipped below, as in Ansible)",
            ),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::SetFact,
        "set_fact",
        "Sets variables for the host's later tasks.",
        &[p(
            "cacheable",
            Bool,
            "accepted; drover keeps facts for the run",
        )],
        CheckMode::Runs,
        false,
    )
    .any_params(),
    module(
        ModuleKind::AddHost,
        "add_host",
        "Adds a host (or puts a known one in more groups) in the run's inventory, for the later plays' `hosts:`, `groups` and `hostvars`; runs once for the play, on the controller. Any other parameter is a variable of the host (`ansible_host`, `ansible_port`, ...).",
        &[
            p("name", Str, "the host, optionally `name:port` (also `host`, `hostname`)"),
            p("host", Str, "the same as `name`"),
            p("hostname", Str, "the same as `name`"),
            p("groups", Any, "groups to put it in: a list or a comma-separated string (also `group`, `groupname`)"),
            p("group", Any, "the same as `groups`"),
            p("groupname", Any, "the same as `groups`"),
        ],
        CheckMode::Runs,
        false,
    )
    .any_params(),
    module(
        ModuleKind::GroupBy,
        "group_by",
        "Puts the host in a group named from its variables (`os_{{ ansible_distribution }}`), for the later plays' `hosts:` and `groups`; on the controller.",
        &[
            req("key", Str, "the group (spaces become dashes)"),
            p("parents", Any, "groups a new group goes under: a name or a list (default all)"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::IncludeVars,
        "include_vars",
        "Sets variables from a YAML or JSON file (or every one of a folder) for the host's later tasks; the file is found in the role's vars/ or beside the playbook, and its name may be a template.",
        &[
            p("file", Str, "the file (or give it as the free form: `include_vars: Debian.yml`)"),
            p("dir", Str, "a folder: its .yml, .yaml and .json files in name order, later ones winning"),
            p("name", Str, "put the variables under this one variable instead of at the top"),
        ],
        CheckMode::Runs,
        false,
    )
    .free_form(),
    module(
        ModuleKind::Fetch,
        "fetch",
        "Copies a file from the host into the run's folder.",
        &[
            req("src", Str, "the file on the host"),
            req(
                "dest",
                Str,
                "where it goes, under the run folder's fetched/",
            ),
            p(
                "flat",
                Bool,
                "put it at dest itself, not under dest/HOST/src",
            ),
            p(
                "fail_on_missing",
                Bool,
                "fail when the file is missing (default true)",
            ),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::Meta,
        "meta",
        "`meta: flush_handlers` runs the notified handlers now; `meta: noop` does nothing.",
        &[],
        CheckMode::Runs,
        false,
    )
    .free_form(),
    module(
        ModuleKind::ComposeLint,
        "compose_lint",
        "drover's own: fails when a compose file (or template, as rendered for the host) has a restart policy that stays down.",
        &[
            req("src", Str, "the compose file or template"),
            p("keep", List, "services allowed to stay down"),
        ],
        CheckMode::Runs,
        false,
    ),
    module(
        ModuleKind::VersionCheck,
        "version_check",
        "drover's own: checks pins, a blacklist and a compatibility matrix against the versions the host will have after its upgrade.",
        &[
            p(
                "versions",
                Dict,
                "versions of components that are not packages",
            ),
            p(
                "apt",
                Bool,
                "also the installed packages and apt's planned upgrade",
            ),
            p("pins", Dict, "component: required version"),
            p(
                "blacklist",
                Dict,
                "component: versions that must not be installed",
            ),
            p("matrix", List, "rules: when these versions, require those"),
        ],
        CheckMode::Runs,
        false,
    ),
];

impl ModuleKind {
    /// Its declaration.
    pub fn spec(self) -> &'static Spec {
        MODULES
            .iter()
            .find(|s| s.kind == self)
            .expect("every module is declared in MODULES")
    }

    /// Its short name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

impl std::fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Ansible's truth for a module's boolean parameter: `true`, a non-zero number, or `yes`, `true`,
/// `on`, `1`, `y` in any case. None when the value is not one that can be read as a boolean.
pub fn truthy(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) => Some(matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "true" | "on" | "1" | "y"
        )),
        Json::Number(n) => Some(n.as_f64() != Some(0.0)),
        _ => None,
    }
}

/// The spec for a module name as written in a task, if drover has the module. `ansible.legacy.`
/// names the same module as the short name does (Ansible's legacy plugin path: built-in modules
/// and their routings, `ansible.legacy.zypper` as `zypper`).
pub fn find(name: &str) -> Option<&'static Spec> {
    let short = (name.strip_prefix("ansible.builtin."))
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name);
    MODULES
        .iter()
        .find(|s| s.name == short || s.aliases.contains(&name) || s.aliases.contains(&short))
}

/// The last part of a module name: `dnf` for `ansible.builtin.dnf`.
fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// What follows "unknown module `NAME`": the closest module drover has when the name looks like a
/// typo of one (collection prefixes aside), and always where to see the list, so an unknown name
/// never reads like a typo when it is a module drover does not have.
fn unknown_hint(name: &str) -> String {
    let names: Vec<&str> = MODULES
        .iter()
        .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
        .collect();
    let shorts: Vec<&str> = names.iter().map(|n| short_name(n)).collect();
    let closest = suggest(short_name(name), &shorts)
        .and_then(|s| names.iter().find(|n| short_name(n) == s))
        .and_then(|n| find(n))
        .map(|spec| spec.name);
    match closest {
        Some(s) => format!("; did you mean `{s}`? (`drover doc` lists the modules drover has)"),
        None => "; drover does not have this module (`drover doc` lists the modules it has)".into(),
    }
}

/// A task's module call: the module and its parameters, not yet rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// The module.
    pub kind: ModuleKind,
    /// Parameters as written; a bare string is under `_raw_params`.
    pub args: serde_json::Map<String, Json>,
    /// Where the module is named.
    pub at: At,
}

impl Module {
    /// Reads a module call and checks its parameters: known names, required ones present, and
    /// each value written as it is of the declared type (a template is checked when it runs).
    pub fn parse(
        src: &Source,
        key: &Node,
        value: &Node,
        extra_args: Option<&Node>,
    ) -> Result<Module, PlaybookError> {
        let name = key.key_string();
        let spec = find(&name).ok_or_else(|| PlaybookError::UnknownModule {
            at: src.at(key),
            hint: unknown_hint(&name),
            name: name.clone(),
        })?;
        let names = spec.param_names();
        let mut args = serde_json::Map::new();
        match &value.value {
            drover_yaml::Value::Map(entries) => {
                if !spec.any_params {
                    let mut allowed = names.clone();
                    allowed.extend(spec.free_form.then_some("_raw_params"));
                    src.check_keys(entries, &allowed, &format!("module `{}`", spec.name))?;
                }
                check_types(src, spec, entries)?;
                args = value.to_json().as_object().cloned().unwrap_or_default();
            }
            drover_yaml::Value::Null => {}
            _ if spec.free_form => {
                args.insert(
                    "_raw_params".into(),
                    Json::String(src.string(value, "the command")?),
                );
            }
            _ => args = key_values(src, value, spec)?,
        }
        if let Some(extra) = extra_args {
            let entries = src.map(extra, "args")?;
            if !spec.any_params {
                src.check_keys(entries, &names, &format!("module `{}`", spec.name))?;
            }
            check_types(src, spec, entries)?;
            for (k, v) in extra.to_json().as_object().into_iter().flatten() {
                args.entry(k.clone()).or_insert(v.clone());
            }
        }
        spec.canonical_args(&mut args);
        // A boolean for a choice is the choice it stands for (`logging: on`), as Ansible reads it;
        // a parameter handed on to another module (package's) is that module's choice.
        for (key, value) in args.iter_mut() {
            if let (
                Some(Param {
                    ty: ParamType::Choice(words),
                    ..
                }),
                Json::Bool(b),
            ) = (spec.param(key), &*value)
                && let Some(word) = choice_of_bool(words, *b)
            {
                *value = Json::String(word.to_string());
            }
        }
        // Required parameters are checked once `module_defaults:` around the task are known
        // (`Module::missing`), since they may give them.
        Ok(Module {
            kind: spec.kind,
            args,
            at: src.at(key),
        })
    }

    /// Its short name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// What is wrong when a required parameter is neither given nor in the `module_defaults:`
    /// layers around the task.
    pub fn missing(&self, module_defaults: &[Json]) -> Option<String> {
        let spec = self.kind.spec();
        let args = crate::module_defaults::apply(module_defaults, self);
        let absent = spec
            .params
            .iter()
            .find(|p| p.required && !args.contains_key(p.name))?;
        Some(format!(
            "module `{}` needs the parameter `{}`",
            spec.name, absent.name
        ))
    }

    /// A string parameter, if present and a string.
    pub fn arg_str(&self, key: &str) -> Option<&str> {
        self.args.get(key).and_then(Json::as_str)
    }
}

/// Each parameter value written as it is must be of its declared type; templates wait for the run.
pub(crate) fn check_types(
    src: &Source,
    spec: &Spec,
    entries: &[(Node, Node)],
) -> Result<(), PlaybookError> {
    for (k, v) in entries {
        let key = k.key_string();
        let Some(param) = spec.param(&key) else {
            continue;
        };
        let value = v.to_json();
        if value
            .as_str()
            .is_some_and(|t| t.contains("{{") || t.contains("{%"))
        {
            continue;
        }
        if let Some(why) = param.ty.refuse(&value) {
            return Err(src.invalid(v, format!("module `{}`: `{key}`: {why}", spec.name)));
        }
    }
    Ok(())
}

/// Ansible's short form `module: key=value key2='value two'`.
fn key_values(
    src: &Source,
    value: &Node,
    spec: &Spec,
) -> Result<serde_json::Map<String, Json>, PlaybookError> {
    let text = src.string(value, "the parameters")?;
    let words = split_args(&text).map_err(|e| src.invalid(value, e))?;
    let mut args = serde_json::Map::new();
    for word in words {
        let word = decode_escapes(&word);
        let (k, v) = key_value(&word).ok_or_else(|| {
            src.invalid(
                value,
                format!(
                    "expected key=value parameters for module `{}`, found `{word}`",
                    spec.name
                ),
            )
        })?;
        let param = spec.param(k);
        if !spec.any_params && param.is_none() {
            let names = spec.param_names();
            return Err(src.invalid(
                value,
                format!(
                    "unknown parameter `{k}` for module `{}`; expected one of: {}",
                    spec.name,
                    names.join(", ")
                ),
            ));
        }
        let templated = v.contains("{{") || v.contains("{%");
        if let Some(why) = param
            .filter(|_| !templated)
            .and_then(|p| p.ty.refuse(&Json::String(v.to_string())))
        {
            return Err(src.invalid(value, format!("module `{}`: `{k}`: {why}", spec.name)));
        }
        args.insert(k.to_string(), Json::String(unquote(v).to_string()));
    }
    Ok(args)
}

/// Splits `key=value` parameters as Ansible's split_args does: on blanks, except inside quotes
/// and inside Jinja's `{{ }}`, `{% %}` and `{# #}` (so `msg={{ a | default('x y') }}` is one word).
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // A quote after a backslash is text, as in Ansible's `_get_quote_state`.
        let escaped = word.ends_with('\\');
        match (quote, c) {
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') if depth == 0 && !escaped => quote = Some(c),
            (_, '{') if matches!(chars.peek(), Some('{' | '%' | '#')) => {
                depth += 1;
                word.push(c);
                word.extend(chars.next());
                continue;
            }
            (_, '}' | '%' | '#') if depth > 0 && chars.peek() == Some(&'}') => {
                depth -= 1;
                word.push(c);
                word.extend(chars.next());
                continue;
            }
            (None, c) if c.is_whitespace() && depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if quote.is_some() {
        return Err("unbalanced quotes in key=value parameters".into());
    }
    if depth > 0 {
        return Err("an unclosed {{ or {% in key=value parameters".into());
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// A value without the quotes around it, as Ansible's parse_kv takes it (`"a b"` is `a b`; a
/// closing quote after a backslash is not one).
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) && !v[..v.len() - 1].ends_with('\\') {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// A word split at its first `=` that is not escaped (`a\=b=c` is `a\=b` and `c`), as parse_kv
/// splits it.
fn key_value(word: &str) -> Option<(&str, &str)> {
    let at = word
        .char_indices()
        .skip(1)
        .find(|&(i, c)| c == '=' && !word[..i].ends_with('\\'))?
        .0;
    Some((&word[..at], &word[at + 1..]))
}

/// Python's escapes in a `key=value` word, decoded as ansible-core's parse_kv decodes them: `\\`,
/// `\'`, `\"`, `\a` `\b` `\f` `\n` `\r` `\t` `\v`, `\xHH`, `\uHHHH` and `\UHHHHHHHH`; anything else
/// (octal, `\N{name}`, `\d`) stays as written.
pub fn decode_escapes(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match escape(after) {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an escape stands for and how many bytes after the backslash it took.
fn escape(after: &str) -> Option<(char, usize)> {
    let hex = |n: usize| {
        let digits = after.get(1..=n)?;
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((
            char::from_u32(u32::from_str_radix(digits, 16).ok()?)?,
            n + 1,
        ))
    };
    let c = match after.chars().next()? {
        'x' => return hex(2),
        'u' => return hex(4),
        'U' => return hex(8),
        c @ ('\\' | '\'' | '"') => c,
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        _ => return None,
    };
    Some((c, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected words are what ansible-core 2.19's parse_kv gives for the same text.
    #[test]
    fn key_value_words_keep_jinja_and_quotes_together() {
        assert_eq!(split_args("msg={{ item }}").unwrap(), ["msg={{ item }}"]);
        assert_eq!(
            split_args("path=/tmp/{{ x | default('a b') }} state=directory  mode=0755").unwrap(),
            [
                "path=/tmp/{{ x | default('a b') }}",
                "state=directory",
                "mode=0755"
            ]
        );
        assert_eq!(
            split_args("msg=\"hello world\" var=x").unwrap(),
            ["msg=\"hello world\"", "var=x"]
        );
        assert_eq!(unquote("\"hello world\""), "hello world");
        assert_eq!(unquote("'a'"), "a");
        assert!(split_args("msg=\"open").is_err());
        // Escaped quotes do not end a quote, and escapes are decoded as ansible-core 2.19's
        // parse_kv decodes them: there, msg="a\"b\" c\td \\d \x41 \101" is `a"b" c<TAB>d \d A \101`.
        let words = split_args(r#"msg="a\"b\" c\td \\d \x41 \101" x=1"#).unwrap();
        assert_eq!(words.len(), 2, "{words:?}");
        let word = decode_escapes(&words[0]);
        assert_eq!(
            unquote(key_value(&word).unwrap().1),
            "a\"b\" c\td \\d A \\101"
        );
        assert_eq!(key_value(r"a\=b=c"), Some((r"a\=b", "c")));
        assert_eq!(unquote(r"'it\'"), r"'it\'");
        assert_eq!(decode_escapes(r"\u00e9\q\"), "\u{e9}\\q\\");
        assert!(split_args("msg={{ open").is_err());
    }

    #[test]
    fn an_unknown_module_names_the_closest_one_or_says_it_is_not_there() {
        let there = " (`drover doc` lists the modules drover has)";
        assert_eq!(
            unknown_hint("ansible.builtin.templat"),
            format!("; did you mean `template`?{there}")
        );
        assert_eq!(
            unknown_hint("ansible.posix.authorised_key"),
            format!("; did you mean `authorized_key`?{there}")
        );
        assert_eq!(
            unknown_hint("systemd_servic"),
            format!("; did you mean `systemd`?{there}")
        );
        assert_eq!(
            unknown_hint("community.general.ufw_rules_of_mine"),
            "; drover does not have this module (`drover doc` lists the modules it has)"
        );
    }

    #[test]
    fn each_module_is_declared_once_and_found_by_every_name() {
        for spec in MODULES {
            assert_eq!(spec.kind.spec().name, spec.name);
            assert_eq!(MODULES.iter().filter(|s| s.kind == spec.kind).count(), 1);
            assert!(
                find(&format!("ansible.builtin.{}", spec.name))
                    .is_some_and(|s| s.kind == spec.kind)
            );
            for alias in spec.aliases {
                assert_eq!(find(alias).map(|s| s.kind), Some(spec.kind), "{alias}");
            }
            for other in spec.hands_to {
                assert!(find(other).is_some(), "{}: {other}", spec.name);
            }
        }
        assert_eq!(
            find("systemd_service").map(|s| s.kind),
            Some(ModuleKind::Systemd)
        );
        assert!(find("docker_swarm").is_none());
        // YAML's `on` for a choice among on/off/low...: Ansible reads it back as `on`.
        let levels = &["on", "off", "low", "medium", "high", "full"];
        assert_eq!(choice_of_bool(levels, true), Some("on"));
        assert_eq!(choice_of_bool(levels, false), Some("off"));
        assert_eq!(choice_of_bool(&["yes", "on", "x"], true), None);
        assert_eq!(choice_of_bool(&["true", "false", "yes"], true), None);
        assert_eq!(
            find("ansible.legacy.zypper").map(|s| s.kind),
            find("community.general.zypper").map(|s| s.kind)
        );
        assert_eq!(
            find("ansible.legacy.command").map(|s| s.kind),
            Some(ModuleKind::Command)
        );
        // package takes its backends' parameters, its own first.
        let package = find("package").unwrap();
        assert_eq!(
            package.param("state").map(|p| p.doc),
            package
                .params
                .iter()
                .find(|p| p.name == "state")
                .map(|p| p.doc)
        );
        assert!(
            package.param("enablerepo").is_some() && package.param("allow_downgrade").is_some()
        );
        assert!(package.param("colour").is_none());
        let names = package.param_names();
        assert_eq!(names[..3], ["name", "state", "use"]);
        assert_eq!(names.iter().filter(|n| **n == "update_cache").count(), 1);
    }

    #[test]
    fn modules_that_write_files_take_selinux_contexts() {
        for name in ["file", "template", "copy", "lineinfile", "x509_certificate"] {
            let spec = find(name).unwrap();
            assert!(spec.param("setype").is_some(), "{name}");
            assert!(spec.param_names().contains(&"selevel"), "{name}");
        }
        // synchronize's owner is a flag to keep owners, not a file it writes.
        for name in ["command", "synchronize", "apt", "user"] {
            assert!(find(name).unwrap().param("setype").is_none(), "{name}");
        }
    }

    #[test]
    fn literal_values_are_checked_against_their_types() {
        use serde_json::json;
        assert_eq!(ParamType::Bool.refuse(&json!("yes")), None);
        assert!(ParamType::Bool.refuse(&json!("maybe")).is_some());
        assert_eq!(ParamType::Mode.refuse(&json!("0644")), None);
        assert_eq!(ParamType::Mode.refuse(&json!(420)), None);
        assert!(ParamType::Mode.refuse(&json!("u+rwx")).is_some());
        assert_eq!(ParamType::AnyMode.refuse(&json!("u=rwX,g=rX,o=")), None);
        assert_eq!(ParamType::AnyMode.refuse(&json!("0750")), None);
        assert_eq!(ParamType::AnyMode.refuse(&json!("a+x")), None);
        assert!(ParamType::AnyMode.refuse(&json!("rwx")).is_some());
        assert!(ParamType::AnyMode.refuse(&json!("u=rw;x")).is_some());
        assert_eq!(ParamType::Number.refuse(&json!("30")), None);
        assert!(ParamType::Dict.refuse(&json!([1])).is_some());
        let upgrade = ParamType::Choice(&["dist", "yes", "true"]);
        assert_eq!(upgrade.refuse(&json!(true)), None);
        assert!(upgrade.refuse(&json!("everything")).is_some());
    }
}
