//! The examples under examples/, each run end to end against real Debian hosts of the container
//! fleet (systemd as PID 1, Debian's Docker and Compose inside: the Python flavour): the examples' own group_vars apply
//! as an operator would use them (stacks under /opt, logs under /var/log, services on the host's
//! 127.0.0.1); the containers are tiny real HTTP servers (busybox httpd), and where an example patches
//! packages, real apt upgrades from the fleet's repository: Docker's own packages (the host's Docker
//! repackaged under Docker's names, whose postinsts really restart containerd and Docker), a kernel
//! that asks for a reboot, and a security update of a library the host has. Each example gets a
//! generated inventory with its groups in place of its production inventory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::apt::{KERNEL_DEBS, build_repo_of, docker_ce_debs, security_update_deb};
use common::{DebianFleet, DebianOptions, Run};
use drover_fleet::{Boot, Flavour};

/// An example copied into a fleet's folder, with the fleet.
struct Example {
    fleet: DebianFleet,
    dir: PathBuf,
    /// The version of libexpat1 the fleet's repository offers as a security update, when the
    /// example patches packages.
    libexpat: Option<String>,
}

/// What an example's hosts have to patch.
#[derive(PartialEq)]
enum Patches {
    /// Nothing: the repository is empty.
    None,
    /// A security update of libexpat1.
    Library,
    /// The incident's: containerd.io 1.7 -> 2.1, docker-ce 28 -> 29, a kernel, and libexpat1.
    Incident,
}

/// Starts `hosts` Debian hosts with Docker and Compose, the busybox image in each host's Docker,
/// the fleet repository's updates for `patches` (the older versions installed), and copies the
/// example. None when there is no Docker engine here (the test is skipped, loudly).
fn example(name: &str, hosts: usize, patches: Patches) -> Option<Example> {
    let repo = common::scratch().join(format!("example-{name}-repo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    let kernel: Vec<_> = match patches {
        Patches::Incident => KERNEL_DEBS.iter().collect(),
        _ => Vec::new(),
    };
    build_repo_of(&repo, &kernel);
    let fleet = common::debian_fleet(
        name,
        &DebianOptions {
            hosts,
            boot: Boot::Systemd,
            repo: Some(repo.clone()),
            flavour: Flavour::Python,
            ..DebianOptions::default()
        },
    )?;
    let mut libexpat = None;
    if patches != Patches::None {
        if patches == Patches::Incident {
            docker_ce_debs(&fleet, &repo);
        }
        libexpat = Some(security_update_deb(&fleet, "libexpat1", &repo));
        build_repo_of(&repo, &[]);
    }
    for i in 0..hosts {
        if patches == Patches::Incident {
            fleet
                .exec(
                    i,
                    "export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && \
                     apt-get install -y -q containerd.io=1.7.27-1 docker-ce=5:28.3.2-1~debian.12~bookworm \
                     linux-image-generic=6.8.0.87.88 >/dev/null",
                )
                .unwrap();
        }
        fleet.build_busybox_image(i).unwrap();
    }
    let dir = fleet.dir().join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let out = Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    Some(Example {
        fleet,
        dir,
        libexpat,
    })
}

impl Example {
    /// Writes inventory/fleet.yml: the fleet's hosts, named node01, node02..., in `groups`, reached
    /// as the fleet's inventory says (root, the fleet's key).
    fn inventory(&self, groups: &[(&str, &[usize])]) -> PathBuf {
        let fleet_inv = std::fs::read_to_string(self.fleet.inventory()).unwrap();
        let var = |k: &str| {
            fleet_inv
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap()
                .to_string()
        };
        let mut text = format!(
            "all:\n  vars:\n    ansible_user: {}\n    ansible_ssh_private_key_file: {}\n  children:\n",
            var("ansible_user"),
            var("ansible_ssh_private_key_file")
        );
        for (group, members) in groups {
            text.push_str(&format!("    {group}:\n      hosts:\n"));
            for &i in *members {
                text.push_str(&format!(
                    "        node{:02}:\n          ansible_host: {}\n",
                    i + 1,
                    self.fleet.hosts()[i].addr
                ));
            }
        }
        let path = self.dir.join("inventory/fleet.yml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `drover push PLAYBOOK` with the generated inventory, journals in the example's folder.
    fn push(&self, playbook: &str, extra: &[&str]) -> Run {
        let (pb, runs) = (self.dir.join(playbook), self.dir.join(".drover/runs"));
        let mut args = common::push_args(&pb, &runs, &["--json"]);
        args.extend(extra);
        common::drover_with(
            &self.fleet,
            &self.dir.join("inventory/fleet.yml"),
            &args,
            &[],
        )
    }

    /// Builds the service image `drover/NAME:VERSION` in every host's Docker: busybox httpd on
    /// $ADDR:$PORT that answers /-/ready, or, for a broken release, answers 404 there. Its shell
    /// stops at once on SIGTERM, as a real service does (httpd as PID 1 ignores it, and every stop
    /// would wait Docker's 10 s for the kill).
    fn service_image(&self, image: &str, healthy: bool) {
        let ready = if healthy {
            "/bin/busybox mkdir -p /www/- && echo ready > /www/-/ready && "
        } else {
            "/bin/busybox mkdir -p /www && "
        };
        let dockerfile = format!(
            "FROM drover/busybox:1\nCMD [\"/bin/busybox\", \"sh\", \"-c\", \"{ready}echo $VERSION > /www/version && {{ /bin/busybox httpd -f -p $ADDR:$PORT -h /www & trap 'exit 0' TERM; wait; }}\"]\nENV VERSION={}\n",
            image.rsplit(':').next().unwrap()
        );
        let dir = format!("/var/tmp/images/{}", image.replace([':', '/'], "_"));
        for i in 0..self.fleet.hosts().len() {
            self.fleet.exec(i, &format!("mkdir -p {dir}")).unwrap();
            self.fleet
                .write_file(i, &format!("{dir}/Dockerfile"), &dockerfile)
                .unwrap();
            self.docker(i, &["build", "-q", "-t", image, &dir]);
        }
    }

    fn docker(&self, i: usize, args: &[&str]) -> String {
        self.fleet.docker(i, args).unwrap()
    }

    /// The text of `path` on host `i`.
    fn read(&self, i: usize, path: &str) -> String {
        self.fleet
            .exec(i, &format!("cat {path}"))
            .unwrap_or_else(|e| panic!("{path} on host {i}: {e}"))
    }

    /// The version of `package` dpkg has installed on host `i`.
    fn installed(&self, i: usize, package: &str) -> String {
        self.fleet
            .exec(i, &format!("dpkg-query -W -f '${{Version}}' {package}"))
            .unwrap()
    }

    /// The version of libexpat1 the repository offers.
    fn libexpat_update(&self) -> &str {
        self.libexpat.as_deref().unwrap()
    }
}

fn events(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn task_events<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events
        .iter()
        .filter(|e| e["event"] == "task" && e["task"].as_str().unwrap_or("").ends_with(name))
        .collect()
}

#[test]
fn containers_after_upgrade_patches_reboots_and_every_container_comes_back() {
    let Some(ex) = example("003-containers-after-upgrade", 2, Patches::Incident) else {
        return;
    };
    ex.inventory(&[("docker_hosts", &[0, 1])]);
    let boots: Vec<String> = (0..2).map(|i| ex.fleet.boot_id(i)).collect();

    // The incident's policy is refused before anything is deployed.
    let run = ex.push("site.yml", &["-e", "restart_policy=unless-stopped"]);
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let lint = task_events(&ev, "lint the compose template's restart policies");
    assert_eq!(lint[0]["status"], "failed", "{run:?}");
    assert!(ex.docker(0, &["ps", "-aq"]).trim().is_empty());

    let run = ex.push("site.yml", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    for (i, boot) in boots.iter().enumerate() {
        assert_ne!(&ex.fleet.boot_id(i), boot, "host {i} rebooted");
        assert_eq!(ex.installed(i, "containerd.io"), "2.1.5-1");
        assert_eq!(ex.installed(i, "linux-image-generic"), "6.8.0.88.89");
        assert_eq!(ex.installed(i, "libexpat1"), ex.libexpat_update());
        let ps = ex.docker(i, &["ps", "--format", "{{.Names}} {{.Status}}"]);
        assert_eq!(ps.lines().count(), 3, "{ps}");
        assert!(ps.lines().all(|l| l.contains("(healthy)")), "{ps}");
    }
    let ev = events(&run);
    let order: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "batch_started")
        .map(|e| e["hosts"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["node01", "node01", "node02"],
        "deploy in one batch, then one host at a time"
    );
    let rollcalls: Vec<_> = ev
        .iter()
        .filter(|e| {
            e["event"] == "task" && e["task"] == "roll call after `reboot into the new kernel`"
        })
        .collect();
    assert_eq!(rollcalls.len(), 2, "{rollcalls:?}");
    assert!(
        rollcalls.iter().all(|e| e["status"] == "ok"),
        "{rollcalls:?}"
    );
}

#[test]
fn upgrade_window_updates_in_phases_rolls_back_a_bad_phase_and_resumes() {
    let Some(ex) = example("000-upgrade-window", 1, Patches::Library) else {
        return;
    };
    ex.inventory(&[("inlock", &[0])]);
    let stack = [
        ("oauth2-proxy", "7.6.0", "7.7.1"),
        ("alertmanager", "0.27.0", "0.28.1"),
        ("cadvisor", "0.49.1", "0.52.1"),
        ("loki", "3.4.2", "3.5.0"),
        ("promtail", "3.4.2", "3.5.0"),
    ];
    for (name, now, next) in stack {
        ex.service_image(&format!("drover/{name}:{now}"), true);
        // The logging plane's new release is broken: it never answers /-/ready.
        ex.service_image(&format!("drover/{name}:{next}"), name != "loki");
    }
    let run = ex.push("deploy.yml", &[]);
    assert_eq!(run.code, 0, "{run:?}");

    let fast = [
        "--ignore-window",
        "--yes",
        "-e",
        "hold_seconds=3",
        "-e",
        "health_retries=3",
    ];
    let run = ex.push("site.yml", &fast);
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let failed = task_events(&ev, "stop the rollout");
    assert!(
        failed[0]["msg"]
            .as_str()
            .unwrap()
            .starts_with("phase `logging plane` failed its health check; rolled back"),
        "{failed:?}"
    );
    let images = ex.docker(0, &["ps", "--format", "{{.Image}}"]);
    for want in [
        "drover/oauth2-proxy:7.7.1",
        "drover/alertmanager:0.28.1",
        "drover/loki:3.4.2",
        "drover/promtail:3.4.2",
    ] {
        assert!(images.lines().any(|l| l == want), "{want} in {images}");
    }
    let checkpoint = task_events(&ev, "checkpoint - preflight passed, evidence captured");
    assert!(
        checkpoint[0]["msg"]
            .as_str()
            .unwrap()
            .starts_with("checkpoint passed with --yes"),
        "{checkpoint:?}"
    );
    let id = ev[0]["run_id"].as_str().unwrap().to_string();
    let fetched = ex.dir.join(".drover/runs").join(&id);
    let found = Command::new("find")
        .arg(&fetched)
        .args(["-name", "image-ids-before.txt"])
        .output()
        .unwrap();
    let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
    let ids = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("evidence {path:?}: {e}"));
    assert!(ids.contains("drover/loki:3.4.2 sha256:"), "{ids}");
    assert_eq!(ex.installed(0, "libexpat1"), ex.libexpat_update());

    // The release is fixed; the run resumes and finishes.
    ex.service_image("drover/loki:3.5.0", true);
    // Inline -e values are not kept in the journal: the resume gives them again.
    let run = ex.push(
        "site.yml",
        &[
            "--resume",
            &id,
            "-e",
            "hold_seconds=3",
            "-e",
            "health_retries=3",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let images = ex.docker(0, &["ps", "--format", "{{.Image}}"]);
    for (name, _, next) in stack {
        assert!(
            images.lines().any(|l| l == format!("drover/{name}:{next}")),
            "{name} {next} in {images}"
        );
    }
}

#[test]
fn observability_upgrade_refuses_a_blacklisted_version_then_upgrades_with_backup_and_audit() {
    let Some(ex) = example("004-observability-upgrade", 1, Patches::None) else {
        return;
    };
    ex.inventory(&[("observability", &[0])]);
    for image in [
        "prometheus:2.53.0",
        "prometheus:3.1.0",
        "grafana:11.1.0",
        "grafana:11.3.0",
        "grafana:11.4.0",
        "loki:3.1.0",
        "loki:3.3.2",
    ] {
        ex.service_image(&format!("drover/{image}"), true);
    }
    let run = ex.push("deploy.yml", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let before = ex.docker(0, &["ps", "--format", "{{.Image}}"]);

    let bad =
        r#"{"target_versions": {"prometheus": "3.1.0", "grafana": "11.3.0", "loki": "3.3.2"}}"#;
    let run = ex.push("site.yml", &["--ignore-window", "-e", bad]);
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let check = task_events(
        &ev,
        "target versions against pins, blacklist and compatibility matrix",
    );
    assert_eq!(
        check[0]["msg"], "version policy: grafana 11.3.0 is blacklisted (`11.3.0`)",
        "{check:?}"
    );
    assert_eq!(ex.docker(0, &["ps", "--format", "{{.Image}}"]), before);

    let run = ex.push("site.yml", &["--ignore-window"]);
    assert_eq!(run.code, 0, "{run:?}");
    let after = ex.docker(0, &["ps", "--format", "{{.Image}}"]);
    for image in [
        "drover/prometheus:3.1.0",
        "drover/grafana:11.4.0",
        "drover/loki:3.3.2",
    ] {
        assert!(after.lines().any(|l| l == image), "{image} in {after}");
    }
    let id = events(&run)[0]["run_id"].as_str().unwrap().to_string();
    let audit = ex.read(0, "/var/log/observability-upgrade.log");
    assert!(
        audit.contains(&format!("{id} node01 target=")) && audit.contains("failed=False"),
        "{audit}"
    );
    let found = Command::new("find")
        .arg(ex.dir.join(".drover/runs").join(&id))
        .args(["-name", "images.txt"])
        .output()
        .unwrap();
    let images = std::fs::read_to_string(String::from_utf8_lossy(&found.stdout).trim()).unwrap();
    assert!(images.contains("drover/grafana:11.1.0"), "{images}");
}

/// The example's Alertmanager stand-in (examples/002-maintenance-runbooks/alertmanager_standin.py),
/// running on a free loopback port and writing its silences to `state` after each change.
struct Alertmanager {
    child: std::process::Child,
    url: String,
    state: PathBuf,
}

impl Alertmanager {
    fn start(ex: &Example) -> Alertmanager {
        use std::io::BufRead;
        let state = ex.dir.join("silences.json");
        let mut child = Command::new("python3")
            .arg(ex.dir.join("alertmanager_standin.py"))
            .args(["--port", "0", "--state"])
            .arg(&state)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the Alertmanager stand-in");
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        Alertmanager {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
            state,
        }
    }

    fn silences(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.state).unwrap_or_else(|_| "[]".into());
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn maintenance_runbooks_upgrade_and_rotate_secrets_under_alert_silences_and_roll_back() {
    let Some(ex) = example("002-maintenance-runbooks", 2, Patches::None) else {
        return;
    };
    ex.inventory(&[("oneiric", &[0, 1])]);
    for version in ["2.0.3", "2.1.0"] {
        ex.service_image(&format!("drover/oneiric:{version}"), true);
    }
    let am = Alertmanager::start(&ex);
    let (old_pw, old_key) = (
        "old-db-password-4f1c9e",
        "0b9e4c2a-5d7f-4e8b-9a1c-3f6d2e8b7a10",
    );
    let (new_pw, new_key) = (
        "new-db-password-8a2d7b",
        "7c3f1e9d-2b4a-4c6e-8d1f-5a9b3c7e2d40",
    );
    for i in 0..2 {
        ex.fleet.exec(i, "mkdir -p /etc/oneiric-provider").unwrap();
        ex.fleet
            .write_file(i, "/etc/oneiric-provider/api-keys", &format!("{old_key}\n"))
            .unwrap();
    }
    let current = ex.dir.join("current-secrets.yml");
    std::fs::write(
        &current,
        format!("db_password: {old_pw}\napi_key: {old_key}\n"),
    )
    .unwrap();
    let new = ex.dir.join("new-secrets.yml");
    std::fs::write(
        &new,
        format!("new_db_password: {new_pw}\nnew_api_key: {new_key}\n"),
    )
    .unwrap();
    let at_current = format!("@{}", current.display());
    let at_new = format!("@{}", new.display());
    let am_url = format!("alertmanager_url={}", am.url);
    let no_secret = |run: &Run| {
        let journals = ex.dir.join(".drover/runs");
        for secret in [old_pw, old_key, new_pw, new_key] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret} printed: {run:?}"
            );
            let grep = Command::new("grep")
                .args(["-rl", secret])
                .arg(&journals)
                .output()
                .unwrap();
            assert!(grep.stdout.is_empty(), "{secret} in the journal: {grep:?}");
        }
    };

    let run = ex.push("deploy.yml", &["-e", &at_current]);
    assert_eq!(run.code, 0, "{run:?}");
    no_secret(&run);

    // Runbook 1: each host upgraded under its own silence, removed afterwards.
    let run = ex.push(
        "version-upgrade.yml",
        &[
            "--ignore-window",
            "-e",
            "target_version=2.1.0",
            "-e",
            &am_url,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    for i in 0..2 {
        let images = ex.docker(i, &["ps", "--format", "{{.Image}}"]);
        assert_eq!(images.trim(), "drover/oneiric:2.1.0");
    }
    let id = events(&run)[0]["run_id"].as_str().unwrap().to_string();
    let silences = am.silences();
    assert_eq!(silences.len(), 2, "{silences:?}");
    for (s, host) in silences.iter().zip(["node01", "node02"]) {
        assert_eq!(s["status"]["state"], "expired", "{s}");
        assert_eq!(s["createdBy"], format!("drover run {id}"));
        assert_eq!(s["matchers"][1]["value"], host);
        assert_eq!(
            s["comment"],
            "Scheduled maintenance: version upgrade to 2.1.0"
        );
    }

    // Runbook 3, with an API key the provider does not know yet: the first host fails its health
    // check, gets its old secrets back, and the rollout stops before the second host.
    let run = ex.push(
        "secret-rotation.yml",
        &["--ignore-window", "-e", &at_new, "-e", &am_url],
    );
    assert_eq!(run.code, 3, "{run:?}");
    no_secret(&run);
    let ev = events(&run);
    let stop = task_events(&ev, "stop the rollout");
    assert_eq!(
        stop[0]["msg"], "the new secrets did not work on node01; the old ones are back",
        "{stop:?}"
    );
    for i in 0..2 {
        let env = ex.read(i, "/opt/oneiric/.env");
        assert_eq!(
            env,
            format!("DB_PASSWORD={old_pw}\nAPI_KEY={old_key}\n"),
            "host {i}"
        );
        assert_eq!(ex.read(i, "/var/lib/oneiric-db/password"), old_pw);
    }
    let silences = am.silences();
    assert_eq!(
        silences.len(),
        3,
        "one more silence, for node01 only: {silences:?}"
    );
    assert!(
        silences.iter().all(|s| s["status"]["state"] == "expired"),
        "{silences:?}"
    );

    // The operator registers the new key with the provider; the rotation goes through.
    for i in 0..2 {
        ex.fleet
            .write_file(
                i,
                "/etc/oneiric-provider/api-keys",
                &format!("{old_key}\n{new_key}\n"),
            )
            .unwrap();
    }
    let run = ex.push(
        "secret-rotation.yml",
        &["--ignore-window", "-e", &at_new, "-e", &am_url],
    );
    assert_eq!(run.code, 0, "{run:?}");
    no_secret(&run);
    for i in 0..2 {
        assert_eq!(
            ex.read(i, "/opt/oneiric/.env"),
            format!("DB_PASSWORD={new_pw}\nAPI_KEY={new_key}\n")
        );
        let mode = ex.fleet.exec(i, "stat -c %a /opt/oneiric/.env").unwrap();
        assert_eq!(mode, "600\n");
        assert_eq!(ex.read(i, "/var/lib/oneiric-db/password"), new_pw);
        let log = ex.read(i, "/var/log/oneiric/secret-rotation.log");
        assert!(log.trim_end().ends_with(": rotated secrets"), "{log}");
    }
    assert!(
        am.silences()
            .iter()
            .all(|s| s["status"]["state"] == "expired")
    );
}

#[test]
fn system_updates_patch_reboot_release_and_roll_back_one_host_at_a_time() {
    let Some(ex) = example("001-system-updates", 2, Patches::Incident) else {
        return;
    };
    ex.inventory(&[("codexos", &[0, 1])]);
    for service in ["backend", "frontend"] {
        ex.service_image(&format!("drover/codexos-{service}:1.4.2"), true);
        // The new backend is broken: it never answers /-/ready.
        ex.service_image(
            &format!("drover/codexos-{service}:1.5.0"),
            service != "backend",
        );
    }
    let run = ex.push("deploy.yml", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let boots: Vec<String> = (0..2).map(|i| ex.fleet.boot_id(i)).collect();

    let run = ex.push("site.yml", &["-e", "new_release=1.5.0"]);
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let stop = task_events(&ev, "stop the rollout");
    assert_eq!(stop.len(), 1, "{stop:?}");
    assert_eq!(
        stop[0]["msg"],
        "release 1.5.0 failed its health checks on node01; rolled back to the previous images"
    );
    // node01: patched, rebooted, every container back, then rolled back to the previous images.
    assert_ne!(ex.fleet.boot_id(0), boots[0]);
    assert_eq!(ex.installed(0, "linux-image-generic"), "6.8.0.88.89");
    let rollcall = task_events(&ev, "roll call after `reboot when the kernel was updated`");
    assert_eq!(rollcall[0]["status"], "ok", "{rollcall:?}");
    let images = ex.docker(0, &["ps", "--format", "{{.Image}}"]);
    assert!(
        images.lines().all(|l| l.ends_with(":previous")) && images.lines().count() == 2,
        "{images}"
    );
    let failures = ex.read(0, "/var/log/update-failures.log");
    assert!(
        failures.contains("release 1.5.0 failed on node01; rolled back"),
        "{failures}"
    );
    // node02: untouched.
    assert_eq!(ex.fleet.boot_id(1), boots[1]);
    assert_ne!(ex.installed(1, "libexpat1"), ex.libexpat_update());
    assert_eq!(ex.installed(1, "linux-image-generic"), "6.8.0.87.88");
    // The pre-update backups of both hosts are in the run folder.
    let id = ev[0]["run_id"].as_str().unwrap().to_string();
    let found = Command::new("find")
        .arg(ex.dir.join(".drover/runs").join(&id))
        .args(["-name", &format!("pre-update-{id}.tar.gz")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).lines().count(),
        2,
        "{found:?}"
    );

    // The release is fixed; the run resumes on node01 and goes on to node02.
    ex.service_image("drover/codexos-backend:1.5.0", true);
    let run = ex.push("site.yml", &["--resume", &id, "-e", "new_release=1.5.0"]);
    assert_eq!(run.code, 0, "{run:?}");
    for (i, boot) in boots.iter().enumerate() {
        assert_ne!(&ex.fleet.boot_id(i), boot, "host {i} rebooted");
        assert_eq!(ex.installed(i, "libexpat1"), ex.libexpat_update());
        let images = ex.docker(i, &["ps", "--format", "{{.Image}}"]);
        let mut images: Vec<&str> = images.lines().collect();
        images.sort();
        assert_eq!(
            images,
            [
                "drover/codexos-backend:1.5.0",
                "drover/codexos-frontend:1.5.0"
            ]
        );
        let log = ex.read(i, "/var/log/system-updates.log");
        assert!(log.contains("update completed: release 1.5.0"), "{log}");
    }
}
