//! Writing SDMX-ML: a thin layer over `quick-xml`'s writer, which escapes every text and attribute value. The
//! messages are built in memory (a data message is bounded by the indicator engine's row cap).

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// An SDMX-ML message being written.
pub struct Xml {
    writer: Writer<Vec<u8>>,
}

impl Xml {
    /// A message: the XML declaration, then its root element opened with its namespaces.
    pub fn message(root: &str, namespaces: &[(&str, &str)]) -> Xml {
        let mut xml = Xml {
            writer: Writer::new(Vec::with_capacity(16 * 1024)),
        };
        xml.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        xml.writer.get_mut().push(b'\n');
        xml.open(root, namespaces);
        xml
    }

    fn event(&mut self, event: Event<'_>) {
        // Writing to memory cannot fail.
        let _ = self.writer.write_event(event);
    }

    /// Opens an element.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Xml {
        self.event(Event::Start(
            BytesStart::new(name).with_attributes(attributes.iter().copied()),
        ));
        self
    }

    /// Closes an element.
    pub fn close(&mut self, name: &str) -> &mut Xml {
        self.event(Event::End(BytesEnd::new(name)));
        self
    }

    /// An element without content.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Xml {
        self.event(Event::Empty(
            BytesStart::new(name).with_attributes(attributes.iter().copied()),
        ));
        self
    }

    /// An element holding text.
    pub fn text(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> &mut Xml {
        self.open(name, attributes);
        self.event(Event::Text(BytesText::new(text)));
        self.close(name)
    }

    /// The message, its root element closed.
    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).expect("text written from strings")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut xml = Xml::message("m:Root", &[("xmlns:m", "urn:x")]);
        xml.text("Name", &[("xml:lang", "fr")], "A & B <\"c\">")
            .empty("Ref", &[("id", "x'y")]);
        assert_eq!(
            xml.finish("m:Root"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<m:Root xmlns:m=\"urn:x\"><Name xml:lang=\"fr\">A &amp; B \
             &lt;&quot;c&quot;&gt;</Name><Ref id=\"x&apos;y\"/></m:Root>\n"
        );
    }
}
