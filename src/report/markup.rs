//! HTML that cannot hold an unescaped value: an [`Html`] grows only by the
//! page's own markup (string literals: `&'static str`), by text from
//! anywhere (escaped on the way in), by numbers, and by other `Html`. Its
//! text is only read out whole, at the end.

/// A piece of an HTML page, safe by construction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Html(String);

/// What `Html::num` takes: numbers, whose text holds nothing to escape.
pub trait Number: std::fmt::Display {}
impl Number for u16 {}
impl Number for u32 {}
impl Number for u64 {}
impl Number for usize {}

impl Html {
    pub fn new() -> Html {
        Html(String::new())
    }

    /// The page's own markup (a literal written here, never a value).
    pub fn tag(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    /// Text from anywhere, escaped for content and attribute values.
    pub fn text(&mut self, s: &str) -> &mut Html {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                c => self.0.push(c),
            }
        }
        self
    }

    pub fn num(&mut self, n: impl Number) -> &mut Html {
        self.0.push_str(&n.to_string());
        self
    }

    /// Another piece, already safe.
    pub fn html(&mut self, h: &Html) -> &mut Html {
        self.0.push_str(&h.0);
        self
    }

    /// The page's text.
    pub fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_markup_is_not() {
        let mut h = Html::new();
        h.tag("<p>").text("<a href='x'>\"&\"</a>").tag("</p>").num(42usize);
        assert_eq!(h.finish(), "<p>&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;</p>42");
    }
}
