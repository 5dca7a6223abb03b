//! Flags an Ansible operator types from habit that drover does not have (yet): each gets what drover
//! does instead, in place of clap's generic tip (which, for `drover run`, would suggest passing the
//! flag after `--`, where it becomes part of the shell command).

/// What to say about `flag` (as typed, `-m` or `--connection=x`), if it is an Ansible flag drover
/// lacks.
pub fn hint(flag: &str) -> Option<&'static str> {
    let name = flag.split_once('=').map_or(flag, |(name, _)| name);
    Some(match name {
        "-k" | "--ask-pass" | "--connection-password-file" => {
            "drover logs in with keys only (a key file, --private-key, or ssh-agent), never with an SSH password"
        }
        "--step" => "`--step` goes with `drover push`, which asks before each task",
        "-c" | "--connection" => {
            "drover always connects over SSH; `ansible_connection: local` in the inventory runs on the controller"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansible_flags_get_drovers_way_and_others_get_none() {
        assert!(hint("-k").unwrap().contains("keys only"));
        assert_eq!(hint("--vault-password-file=x"), None);
        assert_eq!(hint("--frobnicate"), None);
    }
}
