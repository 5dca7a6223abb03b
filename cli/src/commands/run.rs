//! `drover run`: one command on many hosts, with live progress, a block per host and a recap.

use std::io::Write;
use std::time::Instant;

use drover_rollout::{AdhocRequest, Event, HostResult, OutputPolicy, run_adhoc};

use crate::args::RunArgs;
use crate::exit::{Failure, bad_input};
use crate::settings;
use crate::ui::{Progress, Recap};

/// The one-task play of `drover run -m MODULE -a ARGS PATTERN`: its values quoted as YAML strings
/// (JSON's quoting is YAML's), so the arguments stay one value whatever they hold.
fn module_play(pattern: &str, module: &str, args: Option<&str>) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let call = match args.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => format!("{}: {}", quote(module), quote(a)),
        None => format!("{}: {{}}", quote(module)),
    };
    format!(
        "- name: {}\n  hosts: {}\n  gather_facts: false\n  tasks:\n    - {call}\n",
        quote(&format!("ad-hoc {module}")),
        quote(pattern)
    )
}

/// `drover run -m`: the module as one task of a play over the pattern, run as a push runs it (a
/// journal, batches of everything, the task's line and result per host, -v on).
fn run_module(args: RunArgs, module: &str) -> Result<(), Failure> {
    use clap::Parser;
    #[derive(Parser)]
    struct Push {
        #[command(flatten)]
        args: crate::args::PushArgs,
    }
    let text = module_play(&args.pattern, module, args.module_args.as_deref());
    // Relative `src=` and lookups start from here, as Ansible's ad-hoc commands do.
    let here = std::env::current_dir()?.join("ad-hoc.yml");
    let playbook = drover_roles::Playbook::from_text(&here, &text, &[]).map_err(bad_input)?;
    let mut push = Push::try_parse_from(["push", "ad-hoc.yml"])
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .args;
    push.inventory = args.source.inventory;
    push.limit = args.limit;
    push.connect = args.connect;
    push.forks = args.forks;
    push.timeout = args.timeout;
    push.json = args.json;
    push.runs_dir = args.runs_dir;
    push.verbose = 1;
    super::push::run_loaded(push, playbook, None)
}

/// Runs the command and reports; the exit code follows the worst outcome. Each host's result is
/// printed (or streamed into the JSON document) as it finishes, then dropped.
pub fn run(args: RunArgs) -> Result<(), Failure> {
    if let Some(module) = args.module.clone() {
        return run_module(args, &module);
    }
    let inv = super::load_inventory(&args.source)?;
    let hosts = inv
        .select(&args.pattern, args.limit.as_deref())
        .map_err(bad_input)?;
    let (settings, connections) = settings::connect(&args.connect, &inv, &hosts)?;
    let request = AdhocRequest {
        command: args.command.join(" "),
        timeout: args.timeout,
        forks: usize::from(args.forks),
        output: OutputPolicy {
            held: args.max_output,
            dir: args.output_dir,
        },
    };
    if let Some(dir) = &request.output.dir {
        drover_rollout::private_dir(dir)
            .map_err(|e| bad_input(anyhow::anyhow!("--output-dir {}: {e}", dir.display())))?;
    }
    let started = Instant::now();
    let mut progress = Progress::new(connections.len(), !args.json);
    let mut recap = Recap::default();
    let mut json = args
        .json
        .then(|| JsonStream::start(&args.pattern, &request.command));
    let mut on_event = |event: Event| {
        if let Event::HostDone(result) = event {
            progress.done(&result);
            recap.add(&result);
            if let Some(stream) = json.as_mut() {
                stream.host(&result);
            }
        }
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let run = run_adhoc(connections, &request, &settings, &tx);
        tokio::pin!(run);
        loop {
            tokio::select! {
                () = &mut run => {
                    while let Ok(event) = rx.try_recv() {
                        on_event(event);
                    }
                    break;
                }
                Some(event) = rx.recv() => on_event(event),
            }
        }
    });
    progress.finish();
    if let Some(stream) = json {
        stream.finish(&recap);
    }
    // The recap is human output: on stdout, unless --json holds stdout.
    let text = recap.text(started.elapsed());
    if args.json {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
    match recap.exit_code() {
        crate::exit::Code::Ok => Ok(()),
        code => Err(Failure::Hosts(code)),
    }
}

/// The `--json` document, written as hosts finish so that no host's output waits in memory for the
/// others: `{"pattern", "command", "hosts": {name: result, ...}, "recap"}`, hosts in the order they
/// finished.
struct JsonStream {
    out: std::io::Stdout,
    hosts: usize,
}

/// `value` pretty-printed, its lines after the first indented by `indent` spaces.
fn nested(value: &impl serde::Serialize, indent: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.replace('\n', &format!("\n{}", " ".repeat(indent)))
}

impl JsonStream {
    fn start(pattern: &str, command: &str) -> JsonStream {
        let out = std::io::stdout();
        let _ = write!(
            out.lock(),
            "{{\n  \"pattern\": {},\n  \"command\": {},\n  \"hosts\": {{",
            nested(&pattern, 2),
            nested(&command, 2)
        );
        JsonStream { out, hosts: 0 }
    }

    fn host(&mut self, r: &HostResult) {
        let mut value = serde_json::to_value(r).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            // shift_remove keeps the other keys in order (remove would swap the last one in).
            obj.shift_remove("host");
        }
        let sep = if self.hosts == 0 { "" } else { "," };
        let _ = write!(
            self.out.lock(),
            "{sep}\n    {}: {}",
            nested(&r.host, 4),
            nested(&value, 4)
        );
        self.hosts += 1;
    }

    fn finish(self, recap: &Recap) {
        let close = if self.hosts == 0 { "}" } else { "\n  }" };
        let _ = writeln!(
            self.out.lock(),
            "{close},\n  \"recap\": {}\n}}",
            nested(recap, 2)
        );
    }
}
