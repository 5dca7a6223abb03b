//! stat: what a path is on the host, in Ansible's `stat` result shape (`stat.exists`, `isdir`,
//! `mode`, `size`, `checksum`, ...), from one `stat(1)` call. It changes nothing, so it runs in check
//! mode too.

use drover_ssh::shell::quote;
use serde_json::{Map, Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// The fields `stat -c` prints, in this order, separated by `|`.
const FORMAT: &str = "%F|%a|%u|%g|%U|%G|%s|%Y|%X|%Z|%i|%h|%d";

/// The command: `absent`, or the stat line, the link target (`lnk:`), the access checks (`rwx:`)
/// and the checksum (`sum:`), one per line.
pub fn command(args: &Args) -> Result<String, String> {
    let path = args.str("path").ok_or("stat needs `path`")?;
    for (flag, what) in [
        ("get_mime", "mime types"),
        ("get_attributes", "file attributes"),
    ] {
        if args.bool(flag) == Some(true) {
            return Err(format!(
                "stat: `{flag}: true` is not supported yet (drover does not read {what}); leave it out or set it to false"
            ));
        }
    }
    let algorithm = args
        .str("checksum_algorithm")
        .unwrap_or_else(|| "sha1".into());
    let sum = match algorithm.as_str() {
        "sha1" | "sha224" | "sha256" | "sha384" | "sha512" | "md5" => format!("{algorithm}sum"),
        other => {
            return Err(format!(
                "stat: `checksum_algorithm: {other}` is not one of sha1, sha224, sha256, sha384, sha512, md5"
            ));
        }
    };
    let follow = if args.bool("follow") == Some(true) {
        " -L"
    } else {
        ""
    };
    let p = quote(&path);
    let checksum = if args.bool("get_checksum") != Some(false) {
        format!(
            "; if [ -f {p} ] && [ -r {p} ]; then printf 'sum:'; {sum} < {p} | cut -d' ' -f1; fi"
        )
    } else {
        String::new()
    };
    Ok(format!(
        "if [ -e {p} ] || [ -L {p} ]; then stat{follow} -c '{FORMAT}' -- {p} && \
         {{ [ -L {p} ] && printf 'lnk:%s\\n' \"$(readlink -- {p})\" || true; }} && \
         printf 'rwx:%s%s%s\\n' \"$([ -r {p} ] && echo r)\" \"$([ -w {p} ] && echo w)\" \"$([ -x {p} ] && echo x)\"{checksum}; \
         else echo absent; fi"
    ))
}

/// Ansible's `stat` mapping from the command's output.
pub fn parse(path: &str, follow: bool, out: &str) -> Result<Json, String> {
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    if first == "absent" {
        return Ok(json!({"exists": false}));
    }
    let f: Vec<&str> = first.split('|').collect();
    let [
        kind,
        mode,
        uid,
        gid,
        user,
        group,
        size,
        mtime,
        atime,
        ctime,
        inode,
        nlink,
        dev,
    ] = f[..]
    else {
        return Err(format!("stat: unexpected output `{first}`"));
    };
    let num = |s: &str| s.parse::<u64>().map(Json::from).unwrap_or(Json::Null);
    let mut st = Map::new();
    st.insert("exists".into(), json!(true));
    st.insert("path".into(), json!(path));
    st.insert(
        "mode".into(),
        json!(format!("{:04o}", u32::from_str_radix(mode, 8).unwrap_or(0))),
    );
    for (key, is) in [
        ("isreg", kind.contains("regular")),
        ("isdir", kind == "directory"),
        ("islnk", kind == "symbolic link"),
        ("isblk", kind == "block special file"),
        ("ischr", kind == "character special file"),
        ("isfifo", kind == "fifo"),
        ("issock", kind == "socket"),
    ] {
        st.insert(key.into(), json!(is));
    }
    for (key, value) in [
        ("uid", uid),
        ("gid", gid),
        ("size", size),
        ("mtime", mtime),
        ("atime", atime),
        ("ctime", ctime),
        ("inode", inode),
        ("nlink", nlink),
        ("dev", dev),
    ] {
        st.insert(key.into(), num(value));
    }
    st.insert("pw_name".into(), json!(user));
    st.insert("gr_name".into(), json!(group));
    for line in lines {
        if let Some(target) = line.strip_prefix("lnk:") {
            st.insert("lnk_source".into(), json!(target));
            st.insert("lnk_target".into(), json!(target));
        } else if let Some(rwx) = line.strip_prefix("rwx:") {
            st.insert("readable".into(), json!(rwx.contains('r')));
            st.insert("writeable".into(), json!(rwx.contains('w')));
            st.insert("executable".into(), json!(rwx.contains('x')));
        } else if let Some(sum) = line.strip_prefix("sum:") {
            st.insert("checksum".into(), json!(sum.trim()));
        }
    }
    // With `follow`, a link is described as what it points to; without, as the link.
    if follow {
        st.insert("islnk".into(), json!(false));
    }
    Ok(Json::Object(st))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(e),
    };
    let path = args.str("path").unwrap_or_default();
    let stdout = match ctx.output_of(&cmd, &format!("stat {path}")).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    match parse(
        &path,
        args.bool("follow") == Some(true),
        &String::from_utf8_lossy(&stdout),
    ) {
        Ok(stat) => {
            let mut out = Outcome::default();
            out.result.insert("stat".into(), stat);
            out
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn the_command_is_exact() {
        assert_eq!(
            command(&args(
                json!({"path": "/etc/my app.conf", "get_checksum": false})
            ))
            .unwrap(),
            "if [ -e '/etc/my app.conf' ] || [ -L '/etc/my app.conf' ]; then stat -c '%F|%a|%u|%g|%U|%G|%s|%Y|%X|%Z|%i|%h|%d' -- '/etc/my app.conf' && \
             { [ -L '/etc/my app.conf' ] && printf 'lnk:%s\\n' \"$(readlink -- '/etc/my app.conf')\" || true; } && \
             printf 'rwx:%s%s%s\\n' \"$([ -r '/etc/my app.conf' ] && echo r)\" \"$([ -w '/etc/my app.conf' ] && echo w)\" \"$([ -x '/etc/my app.conf' ] && echo x)\"; \
             else echo absent; fi"
        );
        assert!(
            command(&args(json!({"path": "/x", "follow": true})))
                .unwrap()
                .contains("stat -L -c")
        );
        assert!(
            command(&args(json!({"path": "/x", "checksum_algorithm": "sha256"})))
                .unwrap()
                .contains("sha256sum < /x")
        );
        assert!(command(&args(json!({"path": "/x", "get_mime": true}))).is_err());
        assert!(command(&args(json!({}))).is_err());
    }

    #[test]
    fn output_reads_as_ansibles_result() {
        let st = parse(
            "/etc/hosts",
            false,
            "regular file|644|0|0|root|root|186|1700000000|1700000001|1700000002|1234|1|2049\nrwx:rw\nsum:abc\n",
        )
        .unwrap();
        assert_eq!(st["exists"], true);
        assert_eq!(st["isreg"], true);
        assert_eq!(st["isdir"], false);
        assert_eq!(st["mode"], "0644");
        assert_eq!(st["size"], 186);
        assert_eq!(st["pw_name"], "root");
        assert_eq!(st["writeable"], true);
        assert_eq!(st["executable"], false);
        assert_eq!(st["checksum"], "abc");
        assert_eq!(
            parse("/x", false, "absent\n").unwrap(),
            json!({"exists": false})
        );
        let link = parse(
            "/l",
            false,
            "symbolic link|777|0|0|root|root|4|1|1|1|9|1|1\nlnk:/target\nrwx:r\n",
        )
        .unwrap();
        assert_eq!(
            (link["islnk"].clone(), link["lnk_source"].clone()),
            (json!(true), json!("/target"))
        );
    }
}
