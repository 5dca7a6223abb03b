//! Templates a template file pulls in (`{% include %}`, `{% import %}`, `{% from %}`,
//! `{% extends %}`), found beside it as Ansible's template search path finds them, and read with the
//! same rules as the file itself.

use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use minijinja::{Error, ErrorKind};
use regex::Regex;

use crate::literals;

static USES_OTHERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{%[-+]?\s*(include|import|from|extends)\b").expect("valid regex")
});

/// Whether a template pulls in other templates.
pub fn uses_others(body: &str) -> bool {
    USES_OTHERS.is_match(body)
}

/// A loader for templates named relative to `dir`; a name that climbs out of it (`..`, or an
/// absolute path) is refused.
pub fn loader(
    dir: PathBuf,
) -> impl Fn(&str) -> Result<Option<String>, Error> + Send + Sync + 'static {
    move |name: &str| {
        let relative = Path::new(name);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("`{name}`: templates are included by a path inside the template's folder"),
            ));
        }
        match std::fs::read_to_string(dir.join(relative)) {
            Ok(text) => Ok(Some(literals::python_literals(
                &literals::keep_newline_after_raw(&text),
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("`{name}`: {e}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Vars};

    /// Each expected output is what ansible-core 2.19's template module wrote for the same files.
    #[test]
    fn included_imported_and_extended_templates_are_found_beside_the_file() {
        let dir = std::env::temp_dir().join(format!("drover-includes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = [
            ("part.inc", "part {{ inventory_hostname }}\n"),
            ("mac.inc", "{% macro x(v) %}v={{ v }}{% endmacro %}\n"),
            ("base.inc", "base[{% block b %}{% endblock %}]\n"),
        ];
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let mut vars = Vars::new();
        vars.insert("inventory_hostname".into(), "h1".into());
        let e = Engine::new();
        let render = |text: &str| {
            let name = dir.join("t.j2").display().to_string();
            e.render_file(&name, text, &vars)
        };
        assert_eq!(
            render("a\n{% include \"part.inc\" %}\nb\n").unwrap(),
            "a\npart h1b\n"
        );
        assert_eq!(
            render("{% import \"mac.inc\" as m %}{{ m.x(1) }}\n").unwrap(),
            "v=1\n"
        );
        assert_eq!(
            render("{% extends \"base.inc\" %}{% block b %}child{% endblock %}\n").unwrap(),
            "base[child]\n"
        );
        let err = render("{% include \"../escape\" %}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("inside the template's folder"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
