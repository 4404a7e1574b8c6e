"""What command-line options and configuration keys choose from: report formats, gate policies,
the link base of documents. Stdlib only, so that the command line can build its options (and
answer ``--help``) without importing the renderers."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from gapscan.scanner.common.status import FAIL_ON  # noqa: F401 - the choices of --fail-on, re-exported

FORMATS = ("html", "json", "md", "junit", "xlsx", "csv", "sarif")
DEFAULT_FORMATS = ("html", "json")


def with_json(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The formats to write: the chosen ones and ``json`` (the baseline of the next run)."""
    return formats if "json" in formats else (*formats, "json")


_SCHEMES = ("http", "https", "file")


def link_base(url: str) -> str:
    """A ``--link-base``: an http(s) or file URL (or a path relative to the report), ending in "/".
    Characters a URL cannot hold are percent-encoded; other schemes (``javascript:``) are refused."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme and parts.scheme.lower() not in _SCHEMES:
        raise ValueError(f"{url!r}: give an http, https or file URL, or a relative path")
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        raise ValueError(f"{url!r}: the URL names no host")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: a link base cannot have a query or a fragment")
    # Brackets encoded: Markdown would end the link there. Bytes that are not UTF-8 stay those bytes.
    url = quote(url.encode("utf-8", "surrogateescape"), safe=":/%@!$&'*+,;=~")
    return url if url.endswith("/") else url + "/"
