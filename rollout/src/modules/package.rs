//! package: installs or removes packages with the host's package manager. drover's is apt (Debian
//! and Ubuntu hosts), so this is `apt` with `name` and `state`; `use:` naming another manager is
//! refused rather than ignored.

use super::{Args, ModuleCtx, Outcome, apt};

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    match args.str("use").as_deref() {
        None | Some("auto" | "apt") => apt::run(args, ctx).await,
        Some(other) => Outcome::bad_input(format!(
            "package: `use: {other}` is not supported; drover manages packages with apt (Debian and Ubuntu hosts)"
        )),
    }
}
