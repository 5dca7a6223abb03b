//! package: installs or removes packages with the host's package manager: `use`, or else the
//! `ansible_pkg_mgr` fact (apt when facts were not gathered, as drover's hosts are Debian and
//! Ubuntu). dnf, yum, zypper and pacman take the task as their own module would.

use super::foreign_packages::{self, Manager};
use super::{Args, ModuleCtx, Outcome, apt};

/// The first parameter given, not package's own, that the package manager's module does not take,
/// as the error Ansible gives for it (its package hands every other parameter on, and the module
/// refuses).
fn not_taken(args: &Args, manager: &str) -> Option<String> {
    let spec = drover_roles::module::find(manager)?;
    let takes = |s: &drover_roles::Spec, k: &str| s.params.iter().any(|p| p.name == k);
    let own = drover_roles::ModuleKind::Package.spec();
    let key = (args.0.keys()).find(|k| !takes(own, k) && !takes(spec, k))?;
    Some(format!(
        "package: the package manager here is {manager}, whose module does not take `{key}`"
    ))
}

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
    if let Some(why) = not_taken(args, &manager) {
        return Outcome::bad_input(why);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_go_to_a_package_manager_that_takes_them() {
        let args = crate::modules::args(json!({"name": "docker-ce", "allow_downgrade": true}));
        assert_eq!(not_taken(&args, "apt"), None);
        assert_eq!(
            not_taken(&args, "zypper").as_deref(),
            Some(
                "package: the package manager here is zypper, whose module does not take `allow_downgrade`"
            )
        );
        let own = crate::modules::args(json!({"name": "x", "state": "latest", "use": "dnf"}));
        assert_eq!(not_taken(&own, "dnf"), None);
    }
}
