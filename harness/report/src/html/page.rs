//! The shell every page shares: the document, its title and the inline stylesheet.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::palette::stylesheet;

/// A whole page titled `title` around `body`, as text.
pub fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(stylesheet())) }
            }
            body { (body) }
        }
    }
    .into_string()
}
