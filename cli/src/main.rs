//! The `drover` command line: parses arguments, runs a subcommand, maps its end to an exit code.

mod ansible_cfg;
mod ansible_flags;
mod args;
mod commands;
mod exit;
mod report;
mod settings;
mod ui;
mod vars_prompt;
mod vault;

fn main() -> std::process::ExitCode {
    ui::init_colors();
    let matches = match <args::Cli as clap::CommandFactory>::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return refuse(e),
    };
    let cli = match <args::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return refuse(e),
    };
    // The subcommand's own matches say which options the command line gave.
    let given = matches
        .subcommand()
        .map_or_else(clap::ArgMatches::default, |(_, m)| m.clone());
    let mut command = cli.command;
    let bad = |e: String| exit::report(Err(exit::Failure::BadInput(anyhow::anyhow!(e))));
    let cfg = match ansible_cfg::load() {
        Ok(cfg) => cfg,
        Err(e) => return bad(e),
    };
    ansible_cfg::apply(&mut command, &cfg, &given);
    match vault::install(&cli.vault, &cfg, |p| {
        settings::prompt_secret(p).map_err(|e| match e {
            exit::Failure::BadInput(e) | exit::Failure::Internal(e) => e.to_string(),
            exit::Failure::Hosts(_) => "cannot read the vault password".into(),
        })
    }) {
        Ok(warnings) => warnings
            .iter()
            .for_each(|w| eprintln!("warning: {w} (another password is used)")),
        Err(e) => return bad(e),
    }
    let result = match command {
        args::Command::Inventory(a) => commands::inventory::run(&a),
        args::Command::Run(a) => commands::run::run(a),
        args::Command::Push(a) => commands::push::run(*a),
        args::Command::Impact(a) => commands::impact::run(&a),
        args::Command::Render(a) => commands::render::run(&a),
        args::Command::Snapshot(a) => commands::rollcall::snapshot(&a),
        args::Command::Verify(a) => commands::rollcall::verify(&a),
        args::Command::Runs(a) => commands::runs::list(&a),
        args::Command::Report(a) => commands::runs::report(&a),
        args::Command::Compose(c) => commands::compose::run(&c),
        args::Command::Doc(a) => commands::doc::run(&a),
        args::Command::Config => {
            print!("{}", cfg.report());
            Ok(())
        }
    };
    exit::report(result)
}

/// Clap's refusal, unless the argument is an Ansible flag drover lacks: then what to do instead.
fn refuse(e: clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let flag = match (e.kind(), e.get(ContextKind::InvalidArg)) {
        (ErrorKind::UnknownArgument, Some(ContextValue::String(flag))) => flag.clone(),
        _ => e.exit(),
    };
    match ansible_flags::hint(&flag) {
        Some(hint) => exit::report(Err(exit::Failure::BadInput(anyhow::anyhow!(
            "drover has no `{flag}` option: {hint}"
        )))),
        None => e.exit(),
    }
}
