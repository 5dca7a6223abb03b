//! replace: every match of a regular expression in a file replaced (Python's `re.sub` with
//! MULTILINE, as Ansible's), optionally only between `after` and `before`. The file is read, edited
//! here and put back as `lineinfile` does (diff, check mode, exclusive temporary file).

use regex::Regex;

/// `text` with every match of `regexp` replaced by `replacement` (Python's syntax: `\1`,
/// `\g<name>`), only in the part after the first match of `after` and before the next match of
/// `before`, when given.
pub fn edit(
    text: &str,
    regexp: &Regex,
    replacement: &str,
    after: Option<&Regex>,
    before: Option<&Regex>,
) -> String {
    let start = after.and_then(|a| a.find(text)).map_or(0, |m| m.end());
    let end = before
        .and_then(|b| b.find(&text[start..]))
        .map_or(text.len(), |m| start + m.start());
    let replacement = drover_templates::python_replacement(replacement);
    let section = regexp.replace_all(&text[start..end], replacement.as_str());
    format!("{}{section}{}", &text[..start], &text[end..])
}

/// A pattern as Ansible compiles it for `replace`: MULTILINE, so `^` and `$` match at lines.
pub fn multiline(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("(?m){pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Python's re.sub(..., flags=re.MULTILINE) gives it (checked with Python 3.11).
    #[test]
    fn replaces_like_pythons_re_sub() {
        let text = "# listen 80\nlisten 80\n[tls]\nlisten 80\n";
        let re = multiline(r"^listen (\d+)$").unwrap();
        assert_eq!(
            edit(text, &re, r"listen \g<1>80", None, None),
            "# listen 80\nlisten 8080\n[tls]\nlisten 8080\n"
        );
        let tls = multiline(r"^\[tls\]").unwrap();
        assert_eq!(
            edit(text, &re, "listen 443", Some(&tls), None),
            "# listen 80\nlisten 80\n[tls]\nlisten 443\n"
        );
        assert_eq!(
            edit(text, &re, "x", None, Some(&tls)),
            "# listen 80\nx\n[tls]\nlisten 80\n"
        );
        assert_eq!(
            edit("a$b", &multiline(r"\$").unwrap(), "$1", None, None),
            "a$1b"
        );
    }
}
