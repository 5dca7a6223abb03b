//! Live progress for long runs: a bar on stderr while hosts work (ticking from the start), and each host's block on stdout as
//! it finishes. The bar hides itself when stderr is not a terminal.

use console::style;
use drover_rollout::{HostResult, Outcome};
use indicatif::{ProgressBar, ProgressStyle};

/// The progress display of one run.
pub struct Progress {
    bar: ProgressBar,
    print_blocks: bool,
    counts: [usize; 3],
}

impl Progress {
    /// A display for `hosts` hosts; `print_blocks` prints each host's output as it finishes.
    pub fn new(hosts: usize, print_blocks: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(
            Some(hosts as u64),
            indicatif::ProgressDrawTarget::stderr_with_hz(10),
        );
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} hosts  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        // The clock moves from the start, not only when the first host finishes.
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
        Progress {
            bar,
            print_blocks,
            counts: [0; 3],
        }
    }

    /// Records a finished host and prints its block.
    pub fn done(&mut self, result: &HostResult) {
        let slot = match result.outcome {
            Outcome::Ok { .. } => 0,
            Outcome::Failed { .. } => 1,
            Outcome::Unreachable { .. } => 2,
        };
        self.counts[slot] += 1;
        self.bar.inc(1);
        self.bar.set_message(format!(
            "ok {}  failed {}  unreachable {}",
            self.counts[0], self.counts[1], self.counts[2]
        ));
        if self.print_blocks {
            let block = host_block(result);
            self.bar.suspend(|| print!("{block}"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `node01 | OK | rc=0 | 0.12s` followed by the output, as Ansible's ad-hoc blocks read.
fn host_block(r: &HostResult) -> String {
    let secs = format!("{:.2}s", r.duration.as_secs_f64());
    let mut out = match &r.outcome {
        Outcome::Ok { rc, .. } => format!(
            "{} | {} | rc={rc} | {secs}\n",
            style(&r.host).bold(),
            style("OK").green()
        ),
        Outcome::Failed { rc, msg, .. } => format!(
            "{} | {} | rc={} | {secs} | {msg}\n",
            style(&r.host).bold(),
            style("FAILED").red(),
            rc.map_or("-".to_string(), |c| c.to_string())
        ),
        Outcome::Unreachable { msg } => {
            format!(
                "{} | {} | {secs} | {msg}\n",
                style(&r.host).bold(),
                style("UNREACHABLE").red().bold()
            )
        }
    };
    if let Outcome::Ok { stdout, stderr, .. } | Outcome::Failed { stdout, stderr, .. } = &r.outcome
    {
        push_text(&mut out, stdout);
        if !stderr.is_empty() {
            out.push_str(&format!("{}\n", style("--- stderr ---").dim()));
            push_text(&mut out, stderr);
        }
    }
    out
}

fn push_text(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        out.push('\n');
    }
}
