"""Reading a rendered run report back: the figures by id, their images decoded, and the
quality section's examples."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser

from PIL import Image

PNG_PREFIX = "data:image/png;base64,"


@dataclass
class Figure:
    classes: list[str]
    images: list[str] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)


@dataclass
class Example:
    """One ``<blockquote class="quality-example">``: its attributes, text and caption."""

    rule: str
    record_id: str
    text: str = ""
    caption: str = ""


class ReportParser(HTMLParser):
    """The ``<figure id=...>`` elements of a page, their ``<img src>`` and no-data notes, the
    quality examples, every URL-bearing attribute and tag name seen, and the page's text
    outside the examples (``outside``)."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, Figure] = {}
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.ids: list[str] = []
        self.examples: list[Example] = []
        self.outside: list[str] = []
        self._figure: str | None = None
        self._note = False
        self._example: Example | None = None
        self._example_part: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.add(tag)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "data") and v]
        if tag == "figure":
            self._figure = attributes.get("id")
            self.figures[self._figure] = Figure((attributes.get("class") or "").split())
        elif tag == "img" and self._figure:
            self.figures[self._figure].images.append(attributes.get("src", ""))
        elif tag == "p" and self._figure and "no-data" in (attributes.get("class") or "").split():
            self._note = True
            self.figures[self._figure].no_data.append("")
        elif tag == "blockquote" and "quality-example" in (attributes.get("class") or "").split():
            self._example = Example(attributes.get("data-rule") or "", attributes.get("data-id") or "")
            self.examples.append(self._example)
        elif self._example is not None and tag in ("p", "footer"):
            self._example_part = "text" if tag == "p" else "caption"

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None
        if tag == "p":
            self._note = False
        if tag in ("p", "footer"):
            self._example_part = None
        if tag == "blockquote":
            self._example = None

    def handle_data(self, data):
        if self._note and self._figure:
            self.figures[self._figure].no_data[-1] += data
        if self._example is None:
            self.outside.append(data)
        elif self._example_part is not None:
            part = self._example_part
            setattr(self._example, part, getattr(self._example, part) + data)


def parse_report(page: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(page)
    parser.close()
    return parser


def decode_png(uri: str) -> Image.Image:
    """The image of a ``data:image/png;base64,`` URI, fully decoded (raises if it is not one)."""
    assert uri.startswith(PNG_PREFIX), uri[:40]
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(PNG_PREFIX) :], validate=True)))
    image.load()
    return image


def drawn_pixels(image: Image.Image) -> int:
    """Pixels that are not (near) white: something was drawn."""
    grey = image.convert("L")
    return sum(count for value, count in enumerate(grey.histogram()) if value < 235)
