//! The SSH layer's own API against a real sshd: quoting, upload and download, stdin, reuse.

mod common;

use std::sync::Arc;
use std::time::Duration;

use drover_ssh::shell::quote;
use drover_ssh::{
    ClientOptions, HostKeyPolicy, KeyStore, KnownHosts, PassphraseSource, Session, Target,
};

fn connect(fleet: &common::Fleet) -> Session {
    let keys = KeyStore::load(&[fleet.client_key()], &PassphraseSource::None).unwrap();
    let opts = ClientOptions {
        known_hosts: Arc::new(KnownHosts::load(&fleet.known_hosts()).unwrap()),
        policy: HostKeyPolicy::Strict,
        keys: Arc::new(keys),
        use_agent: false,
        default_identity_files: Vec::new(),
        connect_timeout: Duration::from_secs(10),
    };
    let host = &fleet.hosts()[0];
    let target = Target {
        name: host.name.clone(),
        host: host.addr.to_string(),
        port: fleet.port(),
        user: "root".into(),
        identity_files: vec![fleet.client_key()],
        proxy_jump: None,
    };
    let rt = tokio::runtime::Handle::current();
    rt.block_on(async { Session::connect(&target, &opts).await.unwrap() })
}

const NASTY: &[&str] = &[
    "$(touch $HOME/pwned)",
    "`touch $HOME/pwned`",
    "a; touch $HOME/pwned",
    "it's \"quoted\" \\ back\\slash",
    "*.conf ~ {a,b} [x] ? > /dev/null | cat &",
    "line one\nline two\ttab",
    "ünïcødé ✓",
    "",
    "-n",
];

#[tokio::test(flavor = "multi_thread")]
async fn values_with_shell_metacharacters_arrive_exactly() {
    let fleet = common::fleet(1);
    let session = tokio::task::block_in_place(|| connect(&fleet));
    for value in NASTY {
        let out = session
            .exec(&format!("printf %s {}", quote(value)), b"", None, None)
            .await
            .unwrap();
        assert!(out.status.success(), "{value:?}");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), *value);
    }
    assert!(
        !fleet.hosts()[0].state.join("home/pwned").exists(),
        "a value was executed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_and_download_round_trip_with_mode_and_odd_names() {
    let fleet = common::fleet(1);
    let session = tokio::task::block_in_place(|| connect(&fleet));
    let home = fleet.hosts()[0].state.join("home");
    let path = home.join("it's a \"file\" $(x).conf");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let out = session
        .upload(&data, path.to_str().unwrap(), 0o640, None)
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&path).unwrap(), data);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let back = session
        .download(path.to_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(back.stdout, data);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_connection_carries_many_commands_with_stdin() {
    let fleet = common::fleet(1);
    let session = tokio::task::block_in_place(|| connect(&fleet));
    let sshd_pid =
        |out: &drover_ssh::Output| String::from_utf8_lossy(&out.stdout).trim().to_string();
    let first = session.exec("echo $PPID", b"", None, None).await.unwrap();
    for i in 0..30 {
        let input = format!("line {i}\n");
        let out = session
            .exec("cat", input.as_bytes(), None, None)
            .await
            .unwrap();
        assert_eq!(out.stdout, input.as_bytes());
    }
    let last = session.exec("echo $PPID", b"", None, None).await.unwrap();
    // Both commands were children of the same sshd session process: the connection was reused.
    assert_eq!(sshd_pid(&first), sshd_pid(&last));
}
