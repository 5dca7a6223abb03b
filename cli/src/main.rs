//! The `drover` command line: parses arguments, runs a subcommand, maps its end to an exit code.

mod args;
mod commands;
mod exit;
mod settings;
mod ui;

use clap::Parser;

fn main() -> std::process::ExitCode {
    ui::init_colors();
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Inventory(a) => commands::inventory::run(&a),
        args::Command::Run(a) => commands::run::run(a),
        args::Command::Push(a) => commands::push::run(*a),
        args::Command::Impact(a) => commands::impact::run(&a),
        args::Command::Render(a) => commands::render::run(&a),
        args::Command::Snapshot(a) => commands::rollcall::snapshot(&a),
        args::Command::Verify(a) => commands::rollcall::verify(&a),
        args::Command::Compose(c) => commands::compose::run(&c),
    };
    exit::report(result)
}
