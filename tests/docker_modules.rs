//! The Docker modules on a real Debian host with systemd and a Docker daemon of its own (the
//! container fleet): docker_network, docker_volume and docker_container applied, applied again
//! (nothing changes), changed under --check (nothing changes) and for real, then removed.

mod common;

use common::{DebianFleet, DebianOptions, Run, drover, push_args};
use drover_fleet::Boot;

fn push(fleet: &DebianFleet, name: &str, playbook: &str, extra: &[&str]) -> Run {
    let path = fleet.dir().join(format!("{name}.yml"));
    std::fs::write(&path, playbook).unwrap();
    let runs = fleet.dir().join("runs");
    drover(fleet, &push_args(&path, &runs, extra))
}

/// A Debian host of the fleet with systemd and its own Docker daemon, holding the busybox image.
fn docker_host(test: &str) -> Option<DebianFleet> {
    let fleet = common::debian_fleet(
        test,
        &DebianOptions {
            boot: Boot::Systemd,
            ..DebianOptions::default()
        },
    )?;
    fleet.build_busybox_image(0).unwrap();
    Some(fleet)
}

fn recap(run: &Run) -> &str {
    run.stdout
        .lines()
        .find(|l| l.starts_with("deb01 "))
        .unwrap_or_default()
}

fn inspect(fleet: &DebianFleet, what: &str, format: &str) -> String {
    fleet
        .docker(0, &["inspect", "--format", format, what])
        .unwrap()
        .trim()
        .to_string()
}

/// The web service: its network and volume, and a busybox httpd container on them.
fn web(policy: &str, port: u16) -> String {
    format!(
        "- hosts: all
  gather_facts: false
  tasks:
    - community.docker.docker_network:
        name: front
        ipam_config:
          - subnet: 10.77.0.0/24
        labels:
          app: web
    - community.docker.docker_volume:
        volume_name: web-data
        labels:
          backup: daily
    - community.docker.docker_container:
        name: web
        image: drover/busybox:1
        command: [/bin/busybox, httpd, -f, -p, '{port}', -h, /www]
        restart_policy: {policy}
        networks:
          - name: front
            aliases: [www]
            ipv4_address: 10.77.0.10
        env:
          GREETING: hello
        labels:
          app: web
        volumes:
          - web-data:/www
          - /srv/conf:/conf:ro
        mounts:
          - type: bind
            source: /srv/conf
            target: /conf-too
            read_only: true
          - type: tmpfs
            target: /scratch
        memory: 64m
        healthcheck:
          test: [CMD, /bin/busybox, wget, -q, -O, /dev/null, 'http://127.0.0.1:{port}/']
          interval: 5s
          retries: 2
      register: web
    - copy:
        content: \"{{{{ web.container.State.Running }}}} {{{{ web.container.HostConfig.RestartPolicy.Name }}}}\"
        dest: /root/web
"
    )
}

#[test]
fn docker_network_volume_and_container_are_kept_as_described() {
    let Some(fleet) = docker_host("docker_network_volume_and_container_are_kept_as_described")
    else {
        return;
    };
    fleet.exec(0, "mkdir -p /srv/conf").unwrap();

    let run = push(&fleet, "web", &web("unless-stopped", 8080), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=4"), "{run:?}");
    // drover warns of the restart policy that stays down after a Docker upgrade.
    assert!(
        run.stdout
            .contains("restart_policy unless-stopped stays down"),
        "{run:?}"
    );
    assert_eq!(
        fleet.exec(0, "cat /root/web").unwrap(),
        "True unless-stopped"
    );
    assert_eq!(
        inspect(
            &fleet,
            "web",
            "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Memory}} {{.Config.Healthcheck.Retries}} {{(index .NetworkSettings.Networks \"front\").IPAddress}}"
        ),
        "unless-stopped 67108864 2 10.77.0.10"
    );
    assert!(inspect(&fleet, "web", "{{json .Config.Env}}").contains("GREETING=hello"));
    assert_eq!(
        inspect(
            &fleet,
            "web",
            "{{range .HostConfig.Mounts}}{{.Type}}:{{.Source}}:{{.Target}}:{{.ReadOnly}} {{end}}"
        ),
        "bind:/srv/conf:/conf-too:true tmpfs::/scratch:false"
    );
    assert_eq!(
        inspect(
            &fleet,
            "front",
            "{{(index .IPAM.Config 0).Subnet}} {{.Labels.app}}"
        ),
        "10.77.0.0/24 web"
    );
    assert_eq!(inspect(&fleet, "web-data", "{{.Labels.backup}}"), "daily");
    let id = inspect(&fleet, "web", "{{.Id}}");

    // The same again: nothing differs, nothing changes, the container is the same one.
    let run = push(&fleet, "web", &web("unless-stopped", 8080), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    assert_eq!(inspect(&fleet, "web", "{{.Id}}"), id);

    // --check predicts the recreation and makes none.
    let run = push(&fleet, "web", &web("always", 8081), &["--check", "--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        run.stdout
            .contains("recreated: restart_policy, healthcheck, command differ"),
        "{run:?}"
    );
    assert_eq!(inspect(&fleet, "web", "{{.Id}}"), id);

    // For real: recreated with the policy that comes back (the registered result says so), and no
    // warning.
    let run = push(&fleet, "web", &web("always", 8081), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(fleet.exec(0, "cat /root/web").unwrap(), "True always");
    assert!(!run.stdout.contains("[WARNING]: restart_policy"), "{run:?}");
    assert_ne!(inspect(&fleet, "web", "{{.Id}}"), id);
    assert_eq!(
        inspect(
            &fleet,
            "web",
            "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}"
        ),
        "true always"
    );

    // `comparisons: {restart_policy: ignore}`: another policy asked for does not recreate it.
    let id = inspect(&fleet, "web", "{{.Id}}");
    let relaxed = web("on-failure", 8081).replace(
        "        memory: 64m\n",
        "        memory: 64m\n        comparisons:\n          restart_policy: ignore\n",
    );
    let run = push(&fleet, "relaxed", &relaxed, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    assert_eq!(inspect(&fleet, "web", "{{.Id}}"), id);

    // The same image under another name: kept with `image_name_mismatch: ignore`, recreated by
    // default (community.docker 4), and then made from the new name.
    fleet
        .docker(0, &["tag", "drover/busybox:1", "drover/busybox:again"])
        .unwrap();
    let renamed = relaxed.replace("image: drover/busybox:1", "image: drover/busybox:again");
    let kept = renamed.replace(
        "        comparisons:\n",
        "        image_name_mismatch: ignore\n        comparisons:\n",
    );
    let run = push(&fleet, "kept", &kept, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    assert_eq!(inspect(&fleet, "web", "{{.Id}}"), id);
    let run = push(&fleet, "renamed", &renamed, &["--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(
        run.stdout.contains("recreated: image name differ"),
        "{run:?}"
    );
    assert_ne!(inspect(&fleet, "web", "{{.Id}}"), id);
    assert_eq!(
        inspect(&fleet, "web", "{{.Config.Image}}"),
        "drover/busybox:again"
    );

    // A network with a container attached is not remade behind its back.
    let run = push(
        &fleet,
        "renet",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - docker_network:\n        name: front\n        ipam_config: [{subnet: 10.78.0.0/24}]\n",
        &[],
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("containers are attached (web)"),
        "{run:?}"
    );

    // stopped, then absent; the volume keeps its data unless told.
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - docker_container:\n        name: web\n        state: stopped\n    - docker_container:\n        name: web\n        state: absent\n    - docker_network:\n        name: front\n        state: absent\n    - docker_volume:\n        name: web-data\n        labels: {backup: weekly}\n      register: vol\n    - assert:\n        that: [\"'kept' in vol.msg\", \"not vol.changed\"]\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    assert!(fleet.docker(0, &["inspect", "web"]).is_err());
    assert!(fleet.docker(0, &["network", "inspect", "front"]).is_err());
    assert_eq!(inspect(&fleet, "web-data", "{{.Labels.backup}}"), "daily");
}

/// docker_image builds from a folder on the host only when the image is missing (or forced), tags
/// it; the info modules read what is there; docker_login logs in to a registry on the host's
/// loopback (busybox httpd with basic auth stands in for the registry's /v2/ endpoint, all a login
/// asks of it) with the password on standard input, and out again.
#[test]
fn docker_image_info_and_login() {
    let Some(fleet) = docker_host("docker_image_info_and_login") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/app && printf 'FROM drover/busybox:1\\nARG VERSION\\nLABEL version=$VERSION\\n' > /srv/app/Dockerfile")
        .unwrap();
    let image = |force: bool| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_image:\n        name: app\n        tag: '2'\n        source: build\n        force_source: {force}\n        build:\n          path: /srv/app\n          args: {{VERSION: '2'}}\n        repository: registry.local/app\n    - docker_image_info:\n        name: [app:2, registry.local/app:2, nosuch:1]\n      register: info\n    - docker_container_info:\n        name: nosuch\n      register: missing\n    - assert:\n        that:\n          - info.images | length == 2\n          - info.images[0].Config.Labels.version == '2'\n          - not missing.exists\n"
        )
    };
    let run = push(&fleet, "image", &image(false), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        inspect(&fleet, "registry.local/app:2", "{{.Config.Labels.version}}"),
        "2"
    );
    let run = push(&fleet, "image", &image(false), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    // Forced, the build runs again; the same Dockerfile gives the same image, so nothing changed.
    let run = push(&fleet, "image", &image(true), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=0"), "{run:?}");

    // A registry's /v2/ behind basic auth on the host's loopback (Docker talks plain HTTP to it).
    fleet
        .exec(
            0,
            "mkdir -p /srv/registry/v2 && echo '{}' > /srv/registry/v2/index.html && echo '/v2:ci:s3cretpass' > /srv/registry.conf && \
             start-stop-daemon --start --background --exec /bin/busybox -- httpd -p 127.0.0.1:5000 -h /srv/registry -c /srv/registry.conf -r registry",
        )
        .unwrap();
    let login = |state: &str, password: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_login:\n        registry_url: 127.0.0.1:5000\n        username: ci\n        password: {password}\n        state: {state}\n"
        )
    };
    let run = push(&fleet, "login", &login("present", "wrongpass"), &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("wrongpass"), "{run:?}");
    let run = push(&fleet, "login", &login("present", "s3cretpass"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(!run.stdout.contains("s3cretpass"), "{run:?}");
    assert!(
        fleet
            .exec(0, "grep -q '127.0.0.1:5000' /root/.docker/config.json")
            .is_ok()
    );
    let run = push(&fleet, "login", &login("present", "s3cretpass"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "login", &login("absent", "x"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        fleet
            .exec(0, "grep -q '127.0.0.1:5000' /root/.docker/config.json")
            .is_err()
    );
}

/// docker_prune on a real daemon: a stopped container and an unused network go, a running
/// container and its network stay; what went is registered; a second run changes nothing, and
/// --check runs nothing.
#[test]
fn docker_prune_removes_only_what_is_unused() {
    let Some(fleet) = docker_host("docker_prune_removes_only_what_is_unused") else {
        return;
    };
    for args in [
        &["network", "create", "spare"][..],
        &["network", "create", "used"],
        &[
            "create",
            "--name",
            "old",
            "drover/busybox:1",
            "/bin/busybox",
            "true",
        ],
        &[
            "run",
            "-d",
            "--name",
            "live",
            "--network",
            "used",
            "drover/busybox:1",
            "/bin/busybox",
            "sleep",
            "600",
        ],
    ] {
        fleet.docker(0, args).unwrap();
    }
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_prune:\n        containers: true\n        networks: true\n      register: pruned\n    - copy:\n        content: \"{{ pruned.containers | length }} {{ pruned.networks }} {{ pruned.containers_space_reclaimed is number }}\"\n        dest: /tmp/pruned\n";
    let checked = push(&fleet, "prune", play, &["--check"]);
    assert!(recap(&checked).contains("skipped=1"), "{checked:?}");
    assert!(
        fleet.docker(0, &["inspect", "old"]).is_ok(),
        "--check removed nothing"
    );
    let run = push(&fleet, "prune", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /tmp/pruned").unwrap(),
        "1 ['spare'] True"
    );
    assert!(fleet.docker(0, &["inspect", "old"]).is_err());
    assert!(fleet.docker(0, &["network", "inspect", "spare"]).is_err());
    assert_eq!(inspect(&fleet, "live", "{{.State.Running}}"), "true");
    assert!(fleet.docker(0, &["network", "inspect", "used"]).is_ok());
    let again = push(&fleet, "prune", play, &[]);
    assert!(
        recap(&again).contains("changed=1"),
        "only the copy changes: {again:?}"
    );
    assert_eq!(fleet.exec(0, "cat /tmp/pruned").unwrap(), "0 [] True");
}

/// docker_container_exec in a running container: words passed as they are (no shell), the
/// user, folder, environment and standard input as asked; a non-zero exit code registered, not
/// a failure; a missing container fails.
#[test]
fn docker_container_exec_runs_words_in_a_running_container() {
    let Some(fleet) = docker_host("docker_container_exec_runs_words_in_a_running_container") else {
        return;
    };
    let live = [
        "run",
        "-d",
        "--name",
        "box",
        "drover/busybox:1",
        "/bin/busybox",
        "sleep",
        "600",
    ];
    fleet.docker(0, &live).unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_container_exec:\n        container: box\n        argv: [/bin/busybox, sh, -c, 'echo \"$GREETING from $(pwd) as $(/bin/busybox id -u)\"; /bin/busybox cat; exit 3']\n        chdir: /bin\n        user: \"65534\"\n        env: {GREETING: hello}\n        stdin: typed\n      register: ran\n    - community.docker.docker_container_exec:\n        container: box\n        command: /bin/busybox echo '$(/bin/busybox touch /nope)' ;\n      register: words\n    - copy:\n        content: \"{{ ran.rc }}|{{ ran.stdout }}|{{ words.stdout }}\"\n        dest: /tmp/exec-out\n";
    let run = push(&fleet, "exec", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /tmp/exec-out").unwrap(),
        "3|hello from /bin as 65534\ntyped|$(/bin/busybox touch /nope) ;"
    );
    assert!(
        fleet
            .docker(0, &["exec", "box", "/bin/busybox", "test", "-e", "/nope"])
            .is_err()
    );
    let missing = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_container_exec: {container: nobox, command: /bin/true}\n";
    let run = push(&fleet, "missing", missing, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains("Could not find container \"nobox\""),
        "{run:?}"
    );
}

/// docker_container's runtime, stop signal, DNS search domains, CPU shares and GPU requests, on a
/// real daemon: created as asked (a GPU request is held even where no GPU is, until it starts),
/// kept on a second run, recreated when one of them changes; a network joined by hand is kept, or
/// left with `purge_networks`.
#[test]
fn docker_container_runtime_signals_and_gpu_requests_are_kept_as_described() {
    let Some(fleet) =
        docker_host("docker_container_runtime_signals_and_gpu_requests_are_kept_as_described")
    else {
        return;
    };
    let play = |shares: u32, purge: bool| {
        let networks = if purge {
            "        networks: [{name: bridge}]\n        purge_networks: true\n"
        } else {
            ""
        };
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_container:\n        name: transcoder\n        image: drover/busybox:1\n        command: sleep 600\n        state: present\n        runtime: runc\n        stop_signal: SIGINT\n        dns_search_domains: [lan, example.internal]\n        cpu_shares: {shares}\n        device_requests:\n          - driver: nvidia\n            count: -1\n            capabilities: [[compute, video]]\n{networks}"
        )
    };
    let run = push(&fleet, "gpu", &play(512, false), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        inspect(
            &fleet,
            "transcoder",
            "{{.HostConfig.Runtime}} {{.Config.StopSignal}} {{.HostConfig.DnsSearch}} {{.HostConfig.CpuShares}} {{json .HostConfig.DeviceRequests}}"
        ),
        r#"runc SIGINT [lan example.internal] 512 [{"Capabilities":[["compute","video","gpu"]],"Count":-1,"DeviceIDs":null,"Driver":"nvidia","Options":{}}]"#
    );
    let id = inspect(&fleet, "transcoder", "{{.Id}}");
    let again = push(&fleet, "gpu", &play(512, false), &[]);
    assert!(recap(&again).contains("changed=0"), "{again:?}");
    assert_eq!(inspect(&fleet, "transcoder", "{{.Id}}"), id);
    let changed = push(&fleet, "gpu", &play(1024, false), &[]);
    assert!(recap(&changed).contains("changed=1"), "{changed:?}");
    assert_ne!(inspect(&fleet, "transcoder", "{{.Id}}"), id);
    assert_eq!(
        inspect(&fleet, "transcoder", "{{.HostConfig.CpuShares}}"),
        "1024"
    );
}
