//! `vars_prompt:` answered before a push starts: `-e` gives a variable without asking; otherwise
//! the operator is asked on the terminal (a private answer is not echoed, `confirm` asks twice);
//! without a terminal the default answers, and a prompt with none is refused, saying to pass `-e`.
//! A private answer is a secret from then on (hidden in every event). The executor never reads the
//! terminal: the answers reach it as play variables.

use drover_roles::{Playbook, VarPrompt, Vars};
use serde_json::json;

/// How an answer is read: a line from the operator (echoed or not), or none without a terminal.
pub trait Asker {
    /// Asks `prompt`; none when nobody can answer.
    fn ask(&self, prompt: &str, private: bool) -> Result<Option<String>, String>;
}

/// The terminal on stderr, if there is one.
pub struct Terminal;

impl Asker for Terminal {
    fn ask(&self, prompt: &str, private: bool) -> Result<Option<String>, String> {
        let term = console::Term::stderr();
        if !term.is_term() {
            return Ok(None);
        }
        term.write_str(prompt).map_err(|e| e.to_string())?;
        let line = if private {
            term.read_secure_line()
        } else {
            term.read_line()
        };
        line.map(Some).map_err(|e| e.to_string())
    }
}

/// One prompt's answer.
fn answer(p: &VarPrompt, asker: &dyn Asker) -> Result<String, String> {
    let shown = match &p.default {
        Some(d) if !p.private => format!("{} [{d}]: ", p.prompt),
        _ => format!("{}: ", p.prompt),
    };
    let Some(first) = asker.ask(&shown, p.private)? else {
        return p.default.clone().ok_or_else(|| {
            format!(
                "vars_prompt `{}` needs an answer and there is no terminal to ask: pass -e {}=VALUE",
                p.name, p.name
            )
        });
    };
    if p.confirm {
        let again = asker
            .ask(&format!("confirm {}: ", p.prompt), p.private)?
            .unwrap_or_default();
        if again != first {
            return Err(format!(
                "vars_prompt `{}`: the answers do not match",
                p.name
            ));
        }
    }
    Ok(match (first.is_empty(), &p.default) {
        (true, Some(d)) => d.clone(),
        _ => first,
    })
}

/// The answer as the play sees it: hashed when `encrypt` says so, template syntax kept as text
/// when `unsafe` says so (otherwise, as in Ansible, a `{{ }}` in it would render).
fn value(p: &VarPrompt, text: String) -> Result<serde_json::Value, String> {
    let engine = drover_templates::Engine::new();
    let mut vars = Vars::new();
    vars.insert("answer".into(), json!(text));
    if let Some(algorithm) = &p.encrypt {
        vars.insert("algorithm".into(), json!(algorithm));
        vars.insert("salt".into(), json!(p.salt));
        let hashed = engine
            .render_str(
                "vars_prompt",
                "{{ answer | password_hash(algorithm, salt) }}",
                &vars,
            )
            .map_err(|e| format!("vars_prompt `{}`: {e}", p.name))?;
        return Ok(json!(hashed));
    }
    if p.unsafe_text && ["{{", "{%", "{#"].iter().any(|m| text.contains(m)) {
        return Ok(json!(format!("{{% raw %}}{text}{{% endraw %}}")));
    }
    Ok(json!(text))
}

/// Answers every play's prompts that `-e` does not, into the play's variables.
pub fn answer_all(playbook: &mut Playbook, extra: &Vars, asker: &dyn Asker) -> Result<(), String> {
    for play in &mut playbook.plays {
        for p in play.vars_prompt.clone() {
            if extra.contains_key(&p.name) {
                continue;
            }
            let text = answer(&p, asker)?;
            if p.private {
                drover_vault::reveal(&text);
            }
            let v = value(&p, text)?;
            play.vars.insert(p.name.clone(), v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers from a list, in order; none when it runs out (no terminal).
    struct Scripted(RefCell<Vec<&'static str>>);

    impl Asker for Scripted {
        fn ask(&self, _: &str, _: bool) -> Result<Option<String>, String> {
            let mut left = self.0.borrow_mut();
            Ok((!left.is_empty()).then(|| left.remove(0).to_string()))
        }
    }

    fn prompt(name: &str) -> VarPrompt {
        VarPrompt {
            name: name.into(),
            prompt: name.into(),
            default: None,
            private: false,
            confirm: false,
            encrypt: None,
            salt: None,
            unsafe_text: false,
        }
    }

    #[test]
    fn answers_defaults_confirmation_and_hashing() {
        let scripted = |a: &[&'static str]| Scripted(RefCell::new(a.to_vec()));
        assert_eq!(answer(&prompt("x"), &scripted(&["yes"])).unwrap(), "yes");
        let with_default = VarPrompt {
            default: Some("blue".into()),
            ..prompt("colour")
        };
        assert_eq!(answer(&with_default, &scripted(&[""])).unwrap(), "blue");
        assert_eq!(answer(&with_default, &scripted(&[])).unwrap(), "blue");
        assert!(
            answer(&prompt("x"), &scripted(&[]))
                .unwrap_err()
                .contains("-e x=VALUE")
        );
        let confirm = VarPrompt {
            confirm: true,
            ..prompt("pw")
        };
        assert!(answer(&confirm, &scripted(&["a", "b"])).is_err());
        assert_eq!(answer(&confirm, &scripted(&["a", "a"])).unwrap(), "a");
        let hashed = VarPrompt {
            encrypt: Some("sha512_crypt".into()),
            salt: Some("saltsalt".into()),
            ..prompt("pw")
        };
        assert_eq!(
            value(&hashed, "pw".into()).unwrap(),
            json!(
                "$6$rounds=656000$saltsalt$JEklmo18QDRJICgly.JaHaLrPMO2enY/zqc7n8wa/M1Pm/3o//x2DcpQ/Y2KkrrP./b2XHUSe09sxTJiD5VWx1"
            )
        );
    }
}
