"""Languages by ISO 639-1 code: which ones a set of catalogs reads, and their English names."""

from __future__ import annotations

UNDETERMINED = "und"

_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan",
    "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "la": "Latin", "lb": "Luxembourgish", "lt": "Lithuanian",
    "lv": "Latvian", "mk": "Macedonian", "ms": "Malay", "mt": "Maltese", "nl": "Dutch",
    "nn": "Norwegian Nynorsk", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian",
    "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def language_name(code: str) -> str:
    """"es" -> "Spanish"; a code without a name here is shown as the code."""
    return _NAMES.get(code, code)


def reads(languages: tuple[str, ...], language: str) -> bool:
    """Whether a catalog written in ``languages`` can judge a document in ``language``. A language
    that could not be determined (or was never detected) gets the benefit of the doubt."""
    return language in languages or language in ("", UNDETERMINED)


def told(language: str, otherwise: str) -> str:
    """``language``, or ``otherwise`` where it could not be determined (or was never detected)."""
    return otherwise if language in ("", UNDETERMINED) else language


def names(codes: tuple[str, ...] | list[str]) -> str:
    """"English", "English and Spanish", "English, French and Spanish"."""
    return joined([language_name(code) for code in codes])


def in_order(codes) -> list[str]:
    """Language codes as lists show them: English first, then by their English names."""
    return sorted(set(codes), key=lambda code: (code != "en", language_name(code)))


def joined(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
