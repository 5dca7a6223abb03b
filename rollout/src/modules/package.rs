//! package: installs or removes packages with the host's package manager: `use`, or else the
//! `ansible_pkg_mgr` fact (apt when facts were not gathered, as drover's hosts are Debian and
//! Ubuntu). dnf, yum, zypper and pacman take the task as their own module would.

use super::foreign_packages::{self, Manager};
use super::{Args, ModuleCtx, Outcome, apt};

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let fact = ctx
        .vars
        .get("ansible_pkg_mgr")
        .and_then(|v| v.as_str())
        .map(String::from);
    let manager = match args.str("use").as_deref() {
        None | Some("auto") => fact.unwrap_or_else(|| "apt".into()),
        Some(other) => other.to_string(),
    };
    match manager.as_str() {
        "apt" => apt::run(args, ctx).await,
        "dnf" | "dnf5" | "yum" => foreign_packages::run(Manager::Dnf, args, ctx).await,
        "zypper" => foreign_packages::run(Manager::Zypper, args, ctx).await,
        "pacman" => foreign_packages::run(Manager::Pacman, args, ctx).await,
        other => Outcome::bad_input(format!(
            "package: drover has no module for the package manager `{other}` (it has apt, dnf/yum, zypper and pacman)"
        )),
    }
}
